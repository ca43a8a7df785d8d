"""A customer's tiering state, folded one input at a time (rules.md sections 4 and 5).

Each input (a score, a legacy roster entry, an honorary grant or revocation, a daily run) re-decides
the tier from the latest score (`tiers.decide_tier`) and yields a `TierDecision` only when what a
user sees changes: only such decisions are published and stored.

Invariants:
- a score whose revision is not above the last one applied has no effect (the outcome is `stale`);
- a roster entry before any score is remembered and waits for the first score;
- an honorary tier counts while it is active (its `expires_on` excluded); the daily run removes it;
- a CRM profile changes the customer's branch only; it is published only when the branch shown
  changes, and a customer with no decision yet just remembers it.
"""

from dataclasses import dataclass, field, replace
from datetime import date

from services.tiering.domain.contributions import Filer
from services.tiering.domain.tiers import LegacyStanding, Score, TierDecision, decide_tier, legacy_after_score
from shared.events.values import Channel, Tier
from shared.ruleset import Ruleset

DAILY_RUN = "daily_run"
HONORARY = "honorary"
LEGACY_ROSTER = "legacy_vip_imported"
PROFILE = "customer_upserted"


@dataclass(frozen=True, kw_only=True)
class Honorary:
    """An honorary tier (rules.md section 5); it lapses on `expires_on` (that day excluded)."""

    tier: Tier
    expires_on: date | None = None
    channel: Channel | None = None
    """The filing channel and branch: they serve the customer while no policy counts."""
    branch: str | None = None

    @property
    def filer(self) -> Filer:
        return Filer(channel=self.channel, branch=self.branch)

    def active_on(self, day: date) -> bool:
        return self.expires_on is None or day < self.expires_on


@dataclass(frozen=True, kw_only=True)
class RosterEntry:
    """What tiering reads of a `LegacyVipImported`: VIP under legacy since `since`, known on `as_of`."""

    since: date
    as_of: date


@dataclass(frozen=True, kw_only=True)
class Profile:
    """What tiering reads of a `CustomerUpserted`: the customer's branch, known on `as_of`."""

    branch: str
    as_of: date


@dataclass(frozen=True, kw_only=True)
class CustomerTiering:
    """Everything tiering remembers of one customer."""

    score: Score | None = None
    score_revision: int = 0
    legacy: LegacyStanding = field(default_factory=LegacyStanding)
    honorary: Honorary | None = None
    crm_branch: str | None = None
    """The branch of the customer's CRM profile (`customer_upserted`), once one arrived."""
    shown: TierDecision | None = None
    """The last decision published for the customer."""

    @property
    def due_on(self) -> date | None:
        """The next date a daily run has something to do for this customer (honorary expiry)."""
        return self.honorary.expires_on if self.honorary is not None else None


@dataclass(frozen=True, kw_only=True)
class Outcome:
    state: CustomerTiering
    decision: TierDecision | None
    """Set only when the visible state changed: publish it and store it in the history."""
    stale: bool = False


# --- folding inputs into the state ------------------------------------------------------------------


def apply_score(state: CustomerTiering, *, score: Score, revision: int, ruleset: Ruleset) -> Outcome:
    """A new score re-decides the tier at `score.as_of`; a stale revision changes nothing."""
    if revision <= state.score_revision:
        return Outcome(state=state, decision=None, stale=True)
    state = replace(
        state,
        score=score,
        score_revision=revision,
        legacy=legacy_after_score(state.legacy, score=score, previous=state.score, ruleset=ruleset),
    )
    return _redecide(state, trigger=score.trigger, as_of=score.as_of, ruleset=ruleset)


def apply_legacy_roster(state: CustomerTiering, *, since: date, as_of: date, ruleset: Ruleset) -> Outcome:
    """The customer was VIP under the legacy standard before cutover, whenever the entry arrives.

    Without a score there is nothing to hold against the thresholds yet: the entry is remembered
    and the first score decides. A decision it causes is effective no earlier than the latest score.
    """
    earliest = since if state.legacy.roster_since is None else min(since, state.legacy.roster_since)
    state = replace(state, legacy=replace(state.legacy, on_roster=True, roster_since=earliest))
    if state.score is None:
        return Outcome(state=state, decision=None)
    effective = max(as_of, state.score.as_of)
    return _redecide(state, trigger=LEGACY_ROSTER, as_of=effective, ruleset=ruleset)


def apply_profile(state: CustomerTiering, *, branch: str, as_of: date, ruleset: Ruleset) -> Outcome:
    """The CRM profile's branch; a decision only when the branch shown changes.

    Nothing is decided for a customer without a decision yet: their first decision will carry it.
    A decision it causes is effective no earlier than the last decision shown.
    """
    state = replace(state, crm_branch=branch)
    if state.shown is None:
        return Outcome(state=state, decision=None)
    effective = max(as_of, state.shown.effective_at)
    outcome = _redecide(state, trigger=PROFILE, as_of=effective, ruleset=ruleset)
    if outcome.decision is not None and outcome.decision.branch == state.shown.branch:
        return Outcome(state=state, decision=None)
    return outcome


def apply_honorary(state: CustomerTiering, *, honorary: Honorary | None, as_of: date, ruleset: Ruleset) -> Outcome:
    """Grant (or, with None, revoke) an honorary tier from `as_of` on."""
    state = replace(state, honorary=honorary)
    return _redecide(state, trigger=HONORARY, as_of=as_of, ruleset=ruleset)


def apply_daily_run(state: CustomerTiering, *, as_of: date, ruleset: Ruleset) -> Outcome:
    """Make the time-driven changes due on or before `as_of`; nothing happens unless one is due."""
    if state.honorary is None or state.honorary.active_on(as_of):
        return Outcome(state=state, decision=None)
    state = replace(state, honorary=None)
    return _redecide(state, trigger=DAILY_RUN, as_of=as_of, ruleset=ruleset)


def _redecide(state: CustomerTiering, *, trigger: str, as_of: date, ruleset: Ruleset) -> Outcome:
    honorary = state.honorary if state.honorary is not None and state.honorary.active_on(as_of) else None
    decision = decide_tier(
        score=state.score,
        legacy=state.legacy,
        honorary_tier=honorary.tier if honorary is not None else None,
        honorary_filer=honorary.filer if honorary is not None else None,
        crm_branch=state.crm_branch,
        previous=state.shown,
        trigger=trigger,
        as_of=as_of,
        ruleset=ruleset,
    )
    if not decision.shows_change_from(state.shown):
        return Outcome(state=state, decision=None)
    return Outcome(state=replace(state, shown=decision), decision=decision)
