"""Tiers of rules.md section 4, case by case: thresholds, the standard that applies, the legacy
story, upgrades and downgrades, honorary tiers, stale scores and the reasons shown to people.

Every case uses the shipped ruleset file, so a wrong threshold or cutover date in
`rulesets/individual-2015.yaml` fails here as surely as a wrong rule.
"""

from collections.abc import Iterable
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from services.tiering.domain.customers import (
    CustomerTiering,
    Honorary,
    Outcome,
    apply_daily_run,
    apply_honorary,
    apply_legacy_roster,
    apply_score,
)
from services.tiering.domain.tiers import LegacyStanding, Score, decide_tier, higher_tier, standard_for, tier_for
from shared.events.values import Channel, Standard, Tier
from shared.ruleset import load_ruleset

RULESET = load_ruleset(Path(__file__).resolve().parents[2] / "rulesets" / "individual-2015.yaml")
BEFORE_CUTOVER = date(2015, 7, 31)
"""The day before the shipped cutover date 2015-08-01."""
CUTOVER = date(2015, 8, 1)
ROSTER_SINCE = date(2012, 5, 1)


def score(
    as_of: date,
    *,
    points: str = "0.00",
    standard_premium: str = "0.00",
    trigger: str = "new_business",
    channel: Channel | None = Channel.AGENCY,
) -> Score:
    return Score(
        as_of=as_of,
        points=Decimal(points),
        standard_premium=Decimal(standard_premium),
        serving_channel=channel,
        trigger=trigger,
    )


def fold(scores: Iterable[Score], state: CustomerTiering | None = None) -> tuple[CustomerTiering, Outcome]:
    """Applies the scores in order with rising revisions; returns the final state and last outcome."""
    current = state or CustomerTiering()
    outcome = Outcome(state=current, decision=None)
    for item in scores:
        outcome = apply_score(current, score=item, revision=current.score_revision + 1, ruleset=RULESET)
        current = outcome.state
    return current, outcome


def shown(state: CustomerTiering) -> tuple[Tier | None, Standard, Decimal]:
    assert state.shown is not None
    return state.shown.tier, state.shown.standard, state.shown.points


# --- thresholds: inclusive lower bounds ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("points", "standard", "tier"),
    [
        ("0.00", Standard.Y2015, None),
        ("29999.99", Standard.Y2015, None),
        ("30000.00", Standard.Y2015, Tier.GOLD),
        ("69999.99", Standard.Y2015, Tier.GOLD),
        ("70000.00", Standard.Y2015, Tier.PLATINUM),
        ("249999.99", Standard.Y2015, Tier.PLATINUM),
        ("250000.00", Standard.Y2015, Tier.DIAMOND),
        ("9999999.99", Standard.Y2015, Tier.DIAMOND),
        ("0.00", Standard.LEGACY, None),
        ("19999.99", Standard.LEGACY, None),
        ("20000.00", Standard.LEGACY, Tier.GOLD),
        ("49999.99", Standard.LEGACY, Tier.GOLD),
        ("50000.00", Standard.LEGACY, Tier.PLATINUM),
        ("199999.99", Standard.LEGACY, Tier.PLATINUM),
        ("200000.00", Standard.LEGACY, Tier.DIAMOND),
        ("9999999.99", Standard.LEGACY, Tier.DIAMOND),
    ],
)
def test_tier_for_each_threshold_row_inclusive_at_the_lower_bound(
    points: str, standard: Standard, tier: Tier | None
) -> None:
    assert tier_for(Decimal(points), standard, RULESET) is tier


@pytest.mark.parametrize(
    ("computed", "honorary", "effective"),
    [
        (None, None, None),
        (Tier.GOLD, None, Tier.GOLD),
        (None, Tier.GOLD, Tier.GOLD),
        (Tier.GOLD, Tier.PLATINUM, Tier.PLATINUM),
        (Tier.DIAMOND, Tier.GOLD, Tier.DIAMOND),
        (Tier.PLATINUM, Tier.PLATINUM, Tier.PLATINUM),
    ],
)
def test_higher_tier(computed: Tier | None, honorary: Tier | None, effective: Tier | None) -> None:
    assert higher_tier(computed, honorary) is effective


# --- which standard applies ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("as_of", "legacy", "standard"),
    [
        (BEFORE_CUTOVER, LegacyStanding(), Standard.LEGACY),
        (CUTOVER, LegacyStanding(), Standard.Y2015),
        (CUTOVER, LegacyStanding(vip_before_cutover=True), Standard.LEGACY),
        (CUTOVER, LegacyStanding(on_roster=True, roster_since=ROSTER_SINCE), Standard.LEGACY),
        (CUTOVER, LegacyStanding(vip_before_cutover=True, fell_below_after_cutover=True), Standard.Y2015),
        (CUTOVER, LegacyStanding(on_roster=True, fell_below_after_cutover=True), Standard.Y2015),
        (CUTOVER, LegacyStanding(fell_below_after_cutover=True), Standard.Y2015),
        (date(2030, 1, 1), LegacyStanding(vip_before_cutover=True), Standard.LEGACY),
    ],
)
def test_standard_for(as_of: date, legacy: LegacyStanding, standard: Standard) -> None:
    assert standard_for(as_of=as_of, legacy=legacy, ruleset=RULESET) is standard


def test_cutover_date_comes_from_the_ruleset() -> None:
    later = RULESET.model_copy(update={"cutover_date": date(2016, 1, 1)})
    assert standard_for(as_of=CUTOVER, legacy=LegacyStanding(), ruleset=later) is Standard.LEGACY


# --- the legacy story ----------------------------------------------------------------------------------


def test_before_cutover_everyone_is_judged_on_standard_premium() -> None:
    state, outcome = fold([score(BEFORE_CUTOVER, points="10000.00", standard_premium="25000.00")])
    assert shown(state) == (Tier.GOLD, Standard.LEGACY, Decimal("25000.00"))
    assert outcome.decision is not None
    assert outcome.decision.reason == (
        "legacy standard: 25,000.00 standard premium >= Gold 20,000; "
        "everyone is judged on the legacy standard before cutover 2015-08-01 (new_business)"
    )


def test_legacy_vip_keeps_legacy_then_slides_down_then_requalifies_on_2015() -> None:
    state, _ = fold([score(BEFORE_CUTOVER, points="10000.00", standard_premium="25000.00")])
    assert state.shown is not None and state.shown.vip_since == BEFORE_CUTOVER

    # Kept: still at least legacy Gold after cutover, although 2015 points are far below 2015 Gold.
    state, outcome = fold([score(date(2015, 9, 1), points="12000.00", standard_premium="55000.00")], state)
    assert shown(state) == (Tier.PLATINUM, Standard.LEGACY, Decimal("55000.00"))
    assert outcome.decision is not None
    assert outcome.decision.previous_tier is Tier.GOLD
    assert outcome.decision.vip_since == BEFORE_CUTOVER
    assert outcome.decision.reason == (
        "legacy standard: 55,000.00 standard premium >= Platinum 50,000; "
        "legacy standard kept: VIP under it on the day before cutover (history) (new_business)"
    )

    # Slides down: 19,999.99 is below legacy Gold, so the 2015 standard applies from now on.
    state, outcome = fold(
        [score(date(2016, 3, 1), points="9000.00", standard_premium="19999.99", trigger="partial_surrender")],
        state,
    )
    assert shown(state) == (None, Standard.Y2015, Decimal("9000.00"))
    assert outcome.decision is not None
    assert outcome.decision.effective_at == date(2016, 3, 1)
    assert outcome.decision.vip_since is None
    assert outcome.decision.reason == (
        "2015 standard: 9,000.00 points < Gold 30,000; standard premium 19,999.99 < legacy Gold 20,000: "
        "moved to the 2015 standard for good (partial_surrender)"
    )

    # Legacy Platinum again, but 2015 points decide now: 29,999.99 is not 2015 Gold.
    state, outcome = fold([score(date(2017, 1, 1), points="29999.99", standard_premium="60000.00")], state)
    assert shown(state) == (None, Standard.Y2015, Decimal("29999.99"))
    # Re-qualifies on the 2015 standard, with a new VIP start.
    state, outcome = fold([score(date(2017, 2, 1), points="30000.00", standard_premium="60000.00")], state)
    assert shown(state) == (Tier.GOLD, Standard.Y2015, Decimal("30000.00"))
    assert outcome.decision is not None
    assert outcome.decision.vip_since == date(2017, 2, 1)
    assert outcome.decision.reason == (
        "2015 standard: 30,000.00 points >= Gold 30,000; "
        "on the 2015 standard for good since falling below legacy Gold 20,000 (new_business)"
    )


@pytest.mark.parametrize(
    ("standard_premium", "points", "trigger", "expected"),
    [
        ("20000.00", "0.00", "new_business", (Tier.GOLD, Standard.LEGACY, Decimal("20000.00"))),
        ("19999.99", "0.00", "surrender", (None, Standard.Y2015, Decimal("0.00"))),
        ("19999.99", "35000.00", "partial_surrender", (Tier.GOLD, Standard.Y2015, Decimal("35000.00"))),
        ("200000.00", "1000.00", "lapse", (Tier.DIAMOND, Standard.LEGACY, Decimal("200000.00"))),
        # no fall: an upgrade trigger (a book loaded one policy at a time) keeps the legacy standard
        ("19999.99", "35000.00", "new_business", (None, Standard.LEGACY, Decimal("19999.99"))),
        ("0.00", "0.00", "daily_run", (None, Standard.LEGACY, Decimal("0.00"))),
    ],
)
def test_legacy_vip_first_score_after_cutover(
    standard_premium: str, points: str, trigger: str, expected: tuple[Tier | None, Standard, Decimal]
) -> None:
    history = score(BEFORE_CUTOVER, standard_premium="30000.00")
    state, _ = fold([history, score(CUTOVER, points=points, standard_premium=standard_premium, trigger=trigger)])
    assert shown(state) == expected


def test_falling_below_legacy_gold_moves_to_2015_even_while_2015_vip() -> None:
    state, outcome = fold(
        [
            score(BEFORE_CUTOVER, standard_premium="30000.00"),
            score(CUTOVER, points="35000.00", standard_premium="19999.99", trigger="policy_loan"),
        ]
    )
    assert shown(state) == (Tier.GOLD, Standard.Y2015, Decimal("35000.00"))
    assert outcome.decision is not None and outcome.decision.vip_since == BEFORE_CUTOVER
    # Legacy Gold again later does not bring the legacy standard back.
    state, _ = fold([score(date(2016, 1, 1), points="10000.00", standard_premium="90000.00")], state)
    assert shown(state) == (None, Standard.Y2015, Decimal("10000.00"))


def test_not_vip_on_the_day_before_cutover_uses_2015_even_with_legacy_gold_later() -> None:
    state, outcome = fold(
        [
            score(date(2015, 3, 1), standard_premium="25000.00"),
            score(BEFORE_CUTOVER, standard_premium="10000.00", trigger="surrender"),
            score(CUTOVER, points="20000.00", standard_premium="25000.00"),
        ]
    )
    assert shown(state) == (None, Standard.Y2015, Decimal("20000.00"))
    assert outcome.decision is not None
    assert outcome.decision.reason == (
        "2015 standard: 20,000.00 points < Gold 30,000; the 2015 standard applies from cutover 2015-08-01 "
        "(new_business)"
    )


def test_a_customer_first_seen_after_cutover_uses_2015() -> None:
    state, outcome = fold([score(date(2026, 3, 16), points="36000.00", standard_premium="99000.00")])
    assert shown(state) == (Tier.GOLD, Standard.Y2015, Decimal("36000.00"))
    assert outcome.decision is not None
    assert outcome.decision.reason == "2015 standard: 36,000.00 points >= Gold 30,000 (new_business)"


# --- the legacy roster, whenever it arrives -----------------------------------------------------------


def test_roster_after_the_scores_still_corrects_the_standard() -> None:
    state, _ = fold([score(date(2015, 9, 1), points="12000.00", standard_premium="25000.00")])
    assert shown(state) == (None, Standard.Y2015, Decimal("12000.00"))

    outcome = apply_legacy_roster(state, since=ROSTER_SINCE, as_of=date(2015, 10, 1), ruleset=RULESET)
    assert outcome.decision is not None
    assert shown(outcome.state) == (Tier.GOLD, Standard.LEGACY, Decimal("25000.00"))
    assert outcome.decision.trigger == "legacy_vip_imported"
    assert outcome.decision.effective_at == date(2015, 10, 1)
    assert outcome.decision.vip_since == ROSTER_SINCE
    assert outcome.decision.previous_tier is None
    assert outcome.decision.reason == (
        "legacy standard: 25,000.00 standard premium >= Gold 20,000; "
        "legacy standard kept: VIP under it on the day before cutover (legacy roster) (legacy_vip_imported)"
    )


def test_roster_decision_is_never_effective_before_the_latest_score() -> None:
    state, _ = fold([score(date(2016, 5, 1), points="1000.00", standard_premium="25000.00")])
    outcome = apply_legacy_roster(state, since=ROSTER_SINCE, as_of=date(2015, 7, 1), ruleset=RULESET)
    assert outcome.decision is not None and outcome.decision.effective_at == date(2016, 5, 1)


def test_roster_after_a_fall_below_legacy_gold_changes_nothing() -> None:
    state, _ = fold(
        [
            score(CUTOVER, points="1000.00", standard_premium="25000.00"),
            score(date(2015, 9, 1), points="1000.00", standard_premium="15000.00", trigger="surrender"),
            score(date(2015, 10, 1), points="1000.00", standard_premium="25000.00"),
        ]
    )
    outcome = apply_legacy_roster(state, since=ROSTER_SINCE, as_of=date(2015, 11, 1), ruleset=RULESET)
    assert outcome.decision is None
    assert shown(outcome.state) == (None, Standard.Y2015, Decimal("1000.00"))


def test_roster_before_any_score_waits_for_the_first_score() -> None:
    outcome = apply_legacy_roster(CustomerTiering(), since=ROSTER_SINCE, as_of=CUTOVER, ruleset=RULESET)
    assert outcome.decision is None and outcome.state.shown is None
    state, scored = fold([score(date(2015, 9, 1), points="100.00", standard_premium="20000.00")], outcome.state)
    assert shown(state) == (Tier.GOLD, Standard.LEGACY, Decimal("20000.00"))
    assert scored.decision is not None and scored.decision.vip_since == ROSTER_SINCE


def test_roster_twice_keeps_the_earliest_since() -> None:
    first = apply_legacy_roster(CustomerTiering(), since=date(2013, 1, 1), as_of=CUTOVER, ruleset=RULESET)
    again = apply_legacy_roster(first.state, since=date(2014, 1, 1), as_of=CUTOVER, ruleset=RULESET)
    assert again.state.legacy.roster_since == date(2013, 1, 1)


# --- upgrades, downgrades, vip_since, visible changes -------------------------------------------------


def test_upgrade_downgrade_and_loss_take_effect_on_the_score_date() -> None:
    state, up = fold([score(date(2026, 3, 16), points="70000.00")])
    assert up.decision is not None
    assert (up.decision.tier, up.decision.effective_at, up.decision.vip_since) == (
        Tier.PLATINUM,
        date(2026, 3, 16),
        date(2026, 3, 16),
    )
    state, down = fold([score(date(2026, 5, 2), points="69999.99", trigger="partial_surrender")], state)
    assert down.decision is not None
    assert (down.decision.tier, down.decision.previous_tier, down.decision.effective_at) == (
        Tier.GOLD,
        Tier.PLATINUM,
        date(2026, 5, 2),
    )
    assert down.decision.vip_since == date(2026, 3, 16)
    state, lost = fold([score(date(2026, 6, 1), points="29999.99", trigger="lapse")], state)
    assert lost.decision is not None
    assert (lost.decision.tier, lost.decision.previous_tier, lost.decision.vip_since) == (
        None,
        Tier.GOLD,
        None,
    )
    assert lost.decision.reason == "2015 standard: 29,999.99 points < Gold 30,000 (lapse)"


def test_same_figures_again_publish_nothing() -> None:
    state, _ = fold([score(date(2026, 3, 16), points="36000.00")])
    state, again = fold([score(date(2026, 4, 1), points="36000.00", trigger="beneficiary_change")], state)
    assert again.decision is None
    assert again.state.score_revision == 2


@pytest.mark.parametrize(
    "changed",
    [
        score(date(2026, 4, 1), points="36000.01"),
        score(date(2026, 4, 1), points="36000.00", channel=Channel.BANCASSURANCE),
    ],
)
def test_points_or_channel_change_without_a_tier_change_is_published(changed: Score) -> None:
    state, _ = fold([score(date(2026, 3, 16), points="36000.00")])
    _, outcome = fold([changed], state)
    assert outcome.decision is not None
    assert (outcome.decision.tier, outcome.decision.previous_tier) == (Tier.GOLD, Tier.GOLD)
    assert outcome.decision.vip_since == date(2026, 3, 16)


@pytest.mark.parametrize("revision", [1, 2])
def test_a_stale_score_has_no_effect(revision: int) -> None:
    state, _ = fold([score(date(2026, 3, 16), points="36000.00"), score(date(2026, 3, 20), points="80000.00")])
    stale = score(date(2026, 3, 10), points="1.00", standard_premium="1.00")
    outcome = apply_score(state, score=stale, revision=revision, ruleset=RULESET)
    assert outcome.stale and outcome.decision is None
    assert outcome.state == state


def test_decision_records_ruleset_version_and_trigger() -> None:
    decision = decide_tier(
        score=score(date(2026, 3, 16), points="250000.00", trigger="daily_run"),
        legacy=LegacyStanding(),
        honorary_tier=None,
        previous=None,
        trigger="daily_run",
        as_of=date(2026, 3, 16),
        ruleset=RULESET,
    )
    assert (decision.tier, decision.ruleset_version, decision.trigger) == (
        Tier.DIAMOND,
        "individual-2015.1",
        "daily_run",
    )
    assert decision.reason == "2015 standard: 250,000.00 points >= Diamond 250,000 (daily_run)"
    assert decision.serving_channel is Channel.AGENCY


# --- honorary tiers -------------------------------------------------------------------------------------


def test_honorary_higher_than_computed_wins() -> None:
    state, _ = fold([score(date(2026, 3, 16), points="36000.00")])
    outcome = apply_honorary(state, honorary=Honorary(tier=Tier.PLATINUM), as_of=date(2026, 4, 1), ruleset=RULESET)
    decision = outcome.decision
    assert decision is not None
    assert (decision.tier, decision.computed_tier, decision.honorary_tier) == (
        Tier.PLATINUM,
        Tier.GOLD,
        Tier.PLATINUM,
    )
    assert (decision.previous_tier, decision.vip_since, decision.trigger) == (
        Tier.GOLD,
        date(2026, 3, 16),
        "honorary",
    )
    assert decision.reason == (
        "2015 standard: 36,000.00 points >= Gold 30,000; honorary Platinum is higher: Platinum (honorary)"
    )


def test_honorary_lower_than_computed_changes_only_the_honorary_mark() -> None:
    state, _ = fold([score(date(2026, 3, 16), points="300000.00")])
    outcome = apply_honorary(state, honorary=Honorary(tier=Tier.GOLD), as_of=date(2026, 4, 1), ruleset=RULESET)
    decision = outcome.decision
    assert decision is not None
    assert (decision.tier, decision.computed_tier, decision.honorary_tier) == (
        Tier.DIAMOND,
        Tier.DIAMOND,
        Tier.GOLD,
    )
    assert decision.reason.endswith("; honorary Gold is not higher (honorary)")


def test_honorary_without_any_policy_makes_a_vip() -> None:
    outcome = apply_honorary(
        CustomerTiering(), honorary=Honorary(tier=Tier.GOLD), as_of=date(2026, 4, 1), ruleset=RULESET
    )
    decision = outcome.decision
    assert decision is not None
    assert (decision.tier, decision.computed_tier, decision.points, decision.vip_since) == (
        Tier.GOLD,
        None,
        Decimal("0.00"),
        date(2026, 4, 1),
    )
    assert decision.serving_channel is None
    assert decision.reason == (
        "2015 standard: 0.00 points < Gold 30,000; no scored policies; honorary Gold is higher: Gold (honorary)"
    )


def test_revoking_honorary_falls_back_to_the_computed_tier() -> None:
    state, _ = fold([score(date(2026, 3, 16), points="36000.00")])
    granted = apply_honorary(state, honorary=Honorary(tier=Tier.DIAMOND), as_of=date(2026, 4, 1), ruleset=RULESET)
    revoked = apply_honorary(granted.state, honorary=None, as_of=date(2026, 5, 1), ruleset=RULESET)
    assert revoked.decision is not None
    assert (revoked.decision.tier, revoked.decision.previous_tier, revoked.decision.honorary_tier) == (
        Tier.GOLD,
        Tier.DIAMOND,
        None,
    )


# --- the daily run ----------------------------------------------------------------------------------------


def test_daily_run_does_nothing_when_nothing_is_due() -> None:
    state, _ = fold([score(date(2026, 3, 16), points="36000.00")])
    assert state.due_on is None
    outcome = apply_daily_run(state, as_of=date(2030, 1, 1), ruleset=RULESET)
    assert outcome.decision is None and outcome.state == state


def test_daily_run_lapses_an_expired_honorary_tier_on_its_expiry_date() -> None:
    honorary = Honorary(tier=Tier.PLATINUM, expires_on=date(2026, 12, 31))
    granted = apply_honorary(CustomerTiering(), honorary=honorary, as_of=date(2026, 4, 1), ruleset=RULESET)
    assert granted.state.due_on == date(2026, 12, 31)

    not_yet = apply_daily_run(granted.state, as_of=date(2026, 12, 30), ruleset=RULESET)
    assert not_yet.decision is None and not_yet.state == granted.state

    lapsed = apply_daily_run(granted.state, as_of=date(2026, 12, 31), ruleset=RULESET)
    decision = lapsed.decision
    assert decision is not None
    assert (decision.tier, decision.previous_tier, decision.vip_since) == (None, Tier.PLATINUM, None)
    assert (decision.trigger, decision.effective_at) == ("daily_run", date(2026, 12, 31))
    assert lapsed.state.honorary is None and lapsed.state.due_on is None


def test_an_expired_honorary_tier_is_ignored_by_a_score_before_the_daily_run() -> None:
    honorary = Honorary(tier=Tier.DIAMOND, expires_on=date(2026, 6, 1))
    granted = apply_honorary(CustomerTiering(), honorary=honorary, as_of=date(2026, 4, 1), ruleset=RULESET)
    _, outcome = fold([score(date(2026, 6, 2), points="36000.00")], granted.state)
    assert outcome.decision is not None
    assert (outcome.decision.tier, outcome.decision.honorary_tier) == (Tier.GOLD, None)
