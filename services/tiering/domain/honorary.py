"""Applications approved along a chain, pure: honorary VIP status (rules.md section 5, the five-step
`CHAIN`) and the group program's designation of a client's level (section 9, the group ruleset's
`designation_chain`). One machinery: an application carries its program and its chain as data
(each step is the role that decides it), fixed when it is filed.

No I/O, no clock: every rule takes `as_of` (today in the ruleset's time zone) and the time of the act.

Invariants:
- the steps are decided in the order of the application's chain; each only by a user holding that
  step's role;
- one user decides at most one step of an application, and never one of an application they filed;
- a rejection closes the application; the approval of the last step grants the tier (the level);
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


CHAIN: tuple[str, ...] = (
    Step.BRANCH_OPS, Step.BRANCH_GM, Step.HQ_BUSINESS, Step.HQ_CUSTOMER_SERVICE, Step.HQ_EXECUTIVE
)
"""The individual program's honorary chain (rules.md section 5); the group chain is in its ruleset."""
APPROVER_ROLES = tuple(str(step) for step in CHAIN)
REVOKER_ROLE = Step.HQ_CUSTOMER_SERVICE.role

INDIVIDUAL = "individual"
GROUP = "group"


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
    step: str
    """The step decided; its value is also the role that decided it."""
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
    tier: str
    reason: str
    expires_on: date | None
    channel: Channel | None = None
    branch: str | None = None


@dataclass(frozen=True, kw_only=True)
class Application:
    id: str
    customer_id: str
    """The customer, or for a group designation the client."""
    tier: str
    """The honorary tier (a `Tier`), or for a group designation the level applied for."""
    reason: str
    expires_on: date | None
    filed_by: str
    filed_at: datetime
    channel: Channel | None = None
    """The filing channel and branch: they serve the customer while no policy of theirs counts."""
    branch: str | None = None
    decisions: tuple[StepDecision, ...] = ()
    ending: Ending | None = None
    program: str = INDIVIDUAL
    chain: tuple[str, ...] = CHAIN
    """The steps in order, each the role that decides it, as they were when the application was filed."""

    @property
    def state(self) -> State:
        if any(decision.verdict is Verdict.REJECT for decision in self.decisions):
            return State.REJECTED
        if len(self.decisions) < len(self.chain):
            return State.PENDING
        if self.ending is None:
            return State.APPROVED
        return State(self.ending.kind.value)

    @property
    def next_step(self) -> str | None:
        """The step waiting for a decision; None once the application is closed."""
        if self.state is not State.PENDING:
            return None
        return self.chain[len(self.decisions)]

    def step_number(self, step: str) -> int:
        return self.chain.index(step) + 1

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
    levels: tuple[str, ...] | None = None,
) -> Filing:
    """A branch's application: a known tier (or, with `levels`, a known group level), a reason, an
    expiry after `as_of`, none open.

    An expiry of today is refused as well as one in the past: the tier lapses on `expires_on`
    (that day excluded), so it would be granted already lapsed.
    """
    requested: str
    if levels is not None:
        if tier not in levels:
            raise Invalid(f"unknown level {tier!r}: expected one of {', '.join(levels)}", reason="unknown_level")
        requested = tier
    else:
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
    expected_step: str | None,
    as_of: date,
    decided_at: datetime,
) -> StepDecision:
    """The decision of the step now waiting, or a refusal that says why."""
    step = application.next_step
    if step is None:
        raise Conflict(
            f"application {application.id} is {application.state.value}: it takes no more decisions", reason="closed"
        )
    number = application.step_number(step)
    waiting = f"application {application.id} waits for step {number} of {len(application.chain)} ({step})"
    if expected_step is not None and expected_step != step:
        raise Conflict(f"out of turn: {waiting}, not {expected_step}", reason="out_of_turn")
    if step not in roles:
        raise Forbidden(f"{waiting}: this needs the role {step}", reason="role_required")
    earlier = application.decision_by(user_id)
    if earlier is not None:
        raise Forbidden(
            f"user {user_id} already decided step {application.step_number(earlier.step)} ({earlier.step}) of "
            f"application "
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
    """Whether the application now holds a grant (every step of its chain approved, not ended)."""
    return application.state is State.APPROVED
