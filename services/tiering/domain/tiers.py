"""Tier rules (rules.md section 4): which standard applies, which tier, and why.

Pure functions over frozen values: no I/O, no clock. `decide_tier` re-decides a customer's tier from
their latest score; `customers.py` folds each input into the customer's state through it.

Invariants:
- thresholds are inclusive lower bounds; every number comes from the ruleset;
- the effective tier is the higher of the computed tier and the honorary tier;
- "VIP under the legacy standard on the day before cutover" is judged from the policies as they stood
  on that day (scoring's `legacy_before_cutover`), whatever order the events arrived in; a score
  without that figure falls back to the latest score dated before cutover;
- such a customer keeps the legacy standard until a real fall: a score on or after cutover whose
  trigger is a downgrade trigger (ruleset `downgrade_triggers`) and whose standard premium is below
  legacy Gold and below the previous score's. Loading policies (upgrade triggers) never ends it, even
  while only part of the book has arrived; a `policyholder_change` ends it only for the holder whose
  figure went down. The fall is tracked for every customer, on the roster or not, so a roster entry
  that arrives after the scores still yields the standard it would have yielded had it come first;
- serving channel and branch follow the contribution under the standard decided (`contributions`);
- a score whose revision is not above the last one applied has no effect.
"""

from dataclasses import dataclass, replace
from datetime import date
from decimal import Decimal

from services.tiering.domain.contributions import Filer, PolicyShare, pending_from_of, serving_for
from services.tiering.domain.reasons import explain
from shared.events.values import Channel, Standard, Tier
from shared.ruleset import Ruleset

ZERO = Decimal("0.00")


@dataclass(frozen=True, kw_only=True)
class Score:
    """What tiering reads of a `CustomerScored`: counted points under both standards, per policy too."""

    as_of: date
    points: Decimal
    standard_premium: Decimal
    serving_channel: Channel | None
    """Scoring's own (2015 points): used only when the score carries no policies."""
    trigger: str
    policies: tuple[PolicyShare, ...] = ()
    pending_points: Decimal = ZERO
    pending_from: date | None = None
    """As scoring sent it; None: derived from the pending policies (`pending_from_of`)."""
    legacy_before_cutover: Decimal | None = None
    """Legacy standard premium of the policies as they stood on the day before cutover; None when
    scoring did not send it (or the customer held no policy then)."""

    @property
    def points_pending_from(self) -> date | None:
        if self.pending_points <= ZERO:
            return None
        return self.pending_from or pending_from_of(self.policies)


@dataclass(frozen=True, kw_only=True)
class LegacyStanding:
    """What is known of the customer's VIP status under the legacy standard."""

    vip_before_cutover: bool = False
    """The policies as they stood on the day before cutover reached legacy Gold (or, from a score
    without that figure, the latest score dated before cutover did)."""
    on_roster: bool = False
    roster_since: date | None = None
    fell_below_after_cutover: bool = False
    """A downgrade-trigger score dated on or after cutover left the customer below legacy Gold."""

    @property
    def held_at_cutover(self) -> bool:
        return self.vip_before_cutover or self.on_roster

    @property
    def keeps_legacy(self) -> bool:
        return self.held_at_cutover and not self.fell_below_after_cutover


@dataclass(frozen=True, kw_only=True)
class TierDecision:
    tier: Tier | None
    """The effective tier: the higher of `computed_tier` and `honorary_tier`."""
    computed_tier: Tier | None
    honorary_tier: Tier | None
    previous_tier: Tier | None
    standard: Standard
    points: Decimal
    """The figure held against the thresholds of `standard`: 2015 points or legacy standard premium."""
    vip_since: date | None
    effective_at: date
    serving_channel: Channel | None
    trigger: str
    ruleset_version: str
    reason: str
    branch: str | None = None
    pending_points: Decimal = ZERO
    pending_from: date | None = None

    def shows_change_from(self, previous: "TierDecision | None") -> bool:
        """Whether a user would see a difference: only such decisions are published and stored."""
        if previous is None:
            return True
        return _visible(self) != _visible(previous)


def _visible(decision: TierDecision) -> tuple[object, ...]:
    return (
        decision.tier,
        decision.computed_tier,
        decision.honorary_tier,
        decision.standard,
        decision.points,
        decision.serving_channel,
        decision.vip_since,
        decision.branch,
        decision.pending_points,
        decision.pending_from,
    )


# --- the rules --------------------------------------------------------------------------------------


def tier_for(points: Decimal, standard: Standard, ruleset: Ruleset) -> Tier | None:
    """The highest tier whose lower bound (inclusive) `points` reaches, or None below Gold."""
    return ruleset.tier_for(points, standard=standard)


def higher_tier(first: Tier | None, second: Tier | None) -> Tier | None:
    if first is None:
        return second
    if second is None:
        return first
    return first if first.rank >= second.rank else second


def standard_for(*, as_of: date, legacy: LegacyStanding, ruleset: Ruleset) -> Standard:
    """Before cutover everybody is judged on legacy; after it, only those who keep it."""
    if as_of < ruleset.cutover_date or legacy.keeps_legacy:
        return Standard.LEGACY
    return Standard.Y2015


def legacy_after_score(
    legacy: LegacyStanding, *, score: Score, previous: Score | None, ruleset: Ruleset
) -> LegacyStanding:
    """What `score` tells of the legacy standing; `previous` is the score it replaces."""
    legacy_gold = ruleset.thresholds[Standard.LEGACY].gold
    if score.legacy_before_cutover is not None:
        legacy = replace(legacy, vip_before_cutover=score.legacy_before_cutover >= legacy_gold)
    elif score.as_of < ruleset.cutover_date:
        return replace(legacy, vip_before_cutover=score.standard_premium >= legacy_gold)
    if score.as_of >= ruleset.cutover_date and is_real_fall(score, previous=previous, ruleset=ruleset):
        return replace(legacy, fell_below_after_cutover=True)
    return legacy


def is_real_fall(score: Score, *, previous: Score | None, ruleset: Ruleset) -> bool:
    """A downgrade-trigger event that took the standard premium down, to below legacy Gold."""
    before = previous.standard_premium if previous is not None else ZERO
    return (
        score.trigger in ruleset.downgrade_triggers
        and score.standard_premium < ruleset.thresholds[Standard.LEGACY].gold
        and score.standard_premium < before
    )


def decide_tier(
    *,
    score: Score | None,
    legacy: LegacyStanding,
    honorary_tier: Tier | None,
    previous: TierDecision | None,
    trigger: str,
    as_of: date,
    ruleset: Ruleset,
    honorary_filer: Filer | None = None,
    crm_branch: str | None = None,
) -> TierDecision:
    """The tier the customer holds as of `as_of`, from their latest score (None: not scored yet).

    Upgrades and downgrades alike take effect on `as_of`: scoring leaves pending points out until
    cooling-off ends, so a score never carries an upgrade before it may count.
    """
    standard = standard_for(as_of=as_of, legacy=legacy, ruleset=ruleset)
    points = _points_under(standard, score=score)
    computed = tier_for(points, standard, ruleset)
    tier = higher_tier(computed, honorary_tier)
    serving = serving_for(
        score.policies if score is not None else (),
        standard=standard,
        crm_branch=crm_branch,
        honorary_filer=honorary_filer if honorary_tier is not None else None,
        scored_channel=score.serving_channel if score is not None else None,
    )
    return TierDecision(
        tier=tier,
        computed_tier=computed,
        honorary_tier=honorary_tier,
        previous_tier=previous.tier if previous is not None else None,
        standard=standard,
        points=points,
        vip_since=_vip_since(tier=tier, computed=computed, legacy=legacy, previous=previous, as_of=as_of),
        effective_at=as_of,
        serving_channel=serving.channel,
        branch=serving.branch,
        pending_points=score.pending_points if score is not None else ZERO,
        pending_from=score.points_pending_from if score is not None else None,
        trigger=trigger,
        ruleset_version=ruleset.version,
        reason=explain(
            standard=standard,
            points=points,
            computed=computed,
            honorary_tier=honorary_tier,
            keeps_legacy=legacy.keeps_legacy,
            held_legacy_at_cutover=legacy.held_at_cutover,
            legacy_source="legacy roster" if legacy.on_roster else "history",
            previous_standard=previous.standard if previous is not None else None,
            standard_premium=score.standard_premium if score is not None else None,
            trigger=trigger,
            as_of=as_of,
            ruleset=ruleset,
        ),
    )


def _points_under(standard: Standard, *, score: Score | None) -> Decimal:
    if score is None:
        return ZERO
    return score.standard_premium if standard is Standard.LEGACY else score.points


def _vip_since(
    *,
    tier: Tier | None,
    computed: Tier | None,
    legacy: LegacyStanding,
    previous: TierDecision | None,
    as_of: date,
) -> date | None:
    """VIP began on the first decision with a tier and ends with the first without one.

    A roster entry dates a legacy customer's VIP status back to its `since`: while they keep the
    legacy standard and reach its Gold they have been VIP without a break since then.
    """
    if tier is None:
        return None
    since = previous.vip_since if previous is not None and previous.vip_since is not None else as_of
    if computed is not None and legacy.keeps_legacy and legacy.roster_since is not None:
        since = min(since, legacy.roster_since)
    return since
