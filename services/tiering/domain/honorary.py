"""Honorary VIP applications (rules.md section 5): the five-step approval chain, pure.

No I/O, no clock: every rule takes `as_of` (today in the ruleset's time zone) and the time of the act.

Invariants:
- the steps are decided in the fixed order of `CHAIN`; each only by a user holding that step's role;
- one user decides at most one step of an application, and never one of an application they filed;
- a rejection closes the application; the approval of the last step grants the honorary tier;
- an application's state follows from its decisions and its ending alone, so the audit trail
  (decisions and endings, never edited) is the whole truth and the stored state only an index of it;
- an honorary grant ends once: revoked, expired (on its `expires_on`, that day excluded) or superseded
  by a later grant for the same customer.
"""

from dataclasses import dataclass, replace
from datetime import date, datetime
from enum import StrEnum

from shared.events.values import Channel, Tier
from shared.refusals import Conflict, Forbidden, Invalid


class Step(StrEnum):
    """A step of the chain; its value is also the role that decides it."""

    BRANCH_OPS = "branch_ops"
    BRANCH_GM = "branch_gm"
    HQ_BUSINESS = "hq_business"
    HQ_CUSTOMER_SERVICE = "hq_customer_service"
    HQ_EXECUTIVE = "hq_executive"

    @property
    def role(self) -> str:
        return self.value

    @property
    def number(self) -> int:
        return CHAIN.index(self) + 1


CHAIN = (Step.BRANCH_OPS, Step.BRANCH_GM, Step.HQ_BUSINESS, Step.HQ_CUSTOMER_SERVICE, Step.HQ_EXECUTIVE)
APPROVER_ROLES = tuple(step.role for step in CHAIN)
REVOKER_ROLE = Step.HQ_CUSTOMER_SERVICE.role


class Verdict(StrEnum):
    APPROVE = "approve"
    REJECT = "reject"


class State(StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    """Granted and in force: the customer holds the honorary tier."""
    REJECTED = "rejected"
    REVOKED = "revoked"
    EXPIRED = "expired"
    SUPERSEDED = "superseded"
    """A later approved application for the same customer replaced this grant."""


class EndingKind(StrEnum):
    REVOKED = "revoked"
    EXPIRED = "expired"
    SUPERSEDED = "superseded"


# --- values ------------------------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class StepDecision:
    step: Step
    decided_by: str
    verdict: Verdict
    comment: str | None
    decided_at: datetime


@dataclass(frozen=True, kw_only=True)
class Ending:
    kind: EndingKind
    ended_by: str
    """The user who revoked, `daily_run` for an expiry, the later application's id for a supersession."""
    comment: str | None
    effective_on: date
    recorded_at: datetime


@dataclass(frozen=True, kw_only=True)
class Filing:
    """A valid application as filed, before any decision."""

    customer_id: str
    tier: Tier
    reason: str
    expires_on: date | None
    channel: Channel | None = None
    branch: str | None = None


@dataclass(frozen=True, kw_only=True)
class Application:
    id: str
    customer_id: str
    tier: Tier
    reason: str
    expires_on: date | None
    filed_by: str
    filed_at: datetime
    channel: Channel | None = None
    """The filing channel and branch: they serve the customer while no policy of theirs counts."""
    branch: str | None = None
    decisions: tuple[StepDecision, ...] = ()
    ending: Ending | None = None

    @property
    def state(self) -> State:
        if any(decision.verdict is Verdict.REJECT for decision in self.decisions):
            return State.REJECTED
        if len(self.decisions) < len(CHAIN):
            return State.PENDING
        if self.ending is None:
            return State.APPROVED
        return State(self.ending.kind.value)

    @property
    def next_step(self) -> Step | None:
        """The step waiting for a decision; None once the application is closed."""
        if self.state is not State.PENDING:
            return None
        return CHAIN[len(self.decisions)]

    def decision_by(self, user_id: str) -> StepDecision | None:
        return next((decision for decision in self.decisions if decision.decided_by == user_id), None)


# --- the rules ---------------------------------------------------------------------------------------


def check_filing(
    *,
    customer_id: str,
    tier: str,
    reason: str | None,
    expires_on: date | None,
    as_of: date,
    open_application_id: str | None,
    channel: Channel | None = None,
    branch: str | None = None,
) -> Filing:
    """A branch channel's application: a known tier, a reason, an expiry after `as_of`, none open.

    An expiry of today is refused as well as one in the past: the tier lapses on `expires_on`
    (that day excluded), so it would be granted already lapsed.
    """
    try:
        requested = Tier(tier)
    except ValueError:
        known = ", ".join(member.value for member in Tier)
        raise Invalid(f"unknown tier {tier!r}: expected one of {known}", reason="unknown_tier") from None
    if reason is None or not reason.strip():
        raise Invalid("reason is required: say why the customer deserves honorary status", reason="reason_required")
    if expires_on is not None and expires_on <= as_of:
        raise Invalid(
            f"expires_on {expires_on} is not after today ({as_of}): an expiry must lie ahead", reason="expiry_not_ahead"
        )
    if open_application_id is not None:
        raise Conflict(
            f"customer {customer_id} already has an open honorary application {open_application_id}: "
            "it must be decided before another is filed",
            reason="open_application",
        )
    return Filing(
        customer_id=customer_id,
        tier=requested,
        reason=reason.strip(),
        expires_on=expires_on,
        channel=channel,
        branch=branch,
    )


def decide(
    application: Application,
    *,
    user_id: str,
    roles: frozenset[str],
    verdict: Verdict,
    comment: str | None,
    expected_step: Step | None,
    as_of: date,
    decided_at: datetime,
) -> StepDecision:
    """The decision of the step now waiting, or a refusal that says why."""
    step = application.next_step
    if step is None:
        raise Conflict(
            f"application {application.id} is {application.state.value}: it takes no more decisions", reason="closed"
        )
    waiting = f"application {application.id} waits for step {step.number} of {len(CHAIN)} ({step.value})"
    if expected_step is not None and expected_step is not step:
        raise Conflict(f"out of turn: {waiting}, not {expected_step.value}", reason="out_of_turn")
    if step.role not in roles:
        raise Forbidden(f"{waiting}: this needs the role {step.role}", reason="role_required")
    earlier = application.decision_by(user_id)
    if earlier is not None:
        raise Forbidden(
            f"user {user_id} already decided step {earlier.step.number} ({earlier.step.value}) of application "
            f"{application.id}: one person may not decide two steps",
            reason="already_decided",
        )
    if user_id == application.filed_by:
        raise Forbidden(
            f"user {user_id} filed application {application.id} and may not decide it", reason="own_application"
        )
    text = comment.strip() if comment is not None and comment.strip() else None
    if verdict is Verdict.REJECT and text is None:
        raise Invalid("a rejection needs a comment saying why", reason="comment_required")
    if verdict is Verdict.APPROVE and application.expires_on is not None and application.expires_on <= as_of:
        raise Conflict(
            f"the requested expiry {application.expires_on} is not after today ({as_of}): "
            "the application can only be rejected; file a new one",
            reason="expiry_passed",
        )
    return StepDecision(step=step, decided_by=user_id, verdict=verdict, comment=text, decided_at=decided_at)


def with_decision(application: Application, decision: StepDecision) -> Application:
    return replace(application, decisions=(*application.decisions, decision))


def grants(application: Application) -> bool:
    """Whether the application now holds an honorary grant (all five steps approved, not ended)."""
    return application.state is State.APPROVED


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
