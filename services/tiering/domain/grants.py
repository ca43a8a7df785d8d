"""How an honorary grant ends (rules.md section 5), pure: revoked, expired on its `expires_on` (that
day excluded), or superseded by a later grant for the same customer. A grant ends once; the ending is
appended to the audit trail, never edited."""

from dataclasses import replace
from datetime import date, datetime

from services.tiering.domain.honorary import Application, Ending, EndingKind, State
from shared.refusals import Conflict, Invalid


def revoke(application: Application, *, user_id: str, comment: str | None, as_of: date, at: datetime) -> Ending:
    """HQ customer service ends a grant in force; only an approved application can be revoked."""
    if application.state is not State.APPROVED:
        raise Conflict(
            f"application {application.id} is {application.state.value}: only a granted honorary status can be revoked",
            reason="not_granted",
        )
    if comment is None or not comment.strip():
        raise Invalid("a revocation needs a comment saying why", reason="comment_required")
    return Ending(
        kind=EndingKind.REVOKED, ended_by=user_id, comment=comment.strip(), effective_on=as_of, recorded_at=at
    )


def expiry_due(application: Application, *, as_of: date, at: datetime) -> Ending | None:
    """The daily run for `as_of` ends a grant whose `expires_on` has come (that day excluded)."""
    if application.state is not State.APPROVED or application.expires_on is None:
        return None
    if as_of < application.expires_on:
        return None
    return Ending(
        kind=EndingKind.EXPIRED,
        ended_by="daily_run",
        comment=f"expired on {application.expires_on}",
        effective_on=application.expires_on,
        recorded_at=at,
    )


def superseded(application: Application, *, by: str, as_of: date, at: datetime) -> Ending | None:
    """A later grant for the same customer replaces this one, if it is still in force."""
    if application.state is not State.APPROVED:
        return None
    return Ending(
        kind=EndingKind.SUPERSEDED,
        ended_by=by,
        comment=f"replaced by application {by}",
        effective_on=as_of,
        recorded_at=at,
    )


def with_ending(application: Application, ending: Ending) -> Application:
    return replace(application, ending=ending)
