"""Issue 17's edge cases of rules.md section 4, on tiering's side, case by case: legacy standing from
the policies as they stood the day before cutover (whatever the arrival order), only a real fall ends
it, one contribution measure for the serving channel and the branch, the CRM branch, honorary VIPs
without policies served by whoever filed, and pending points with the day they count from.
"""

from collections.abc import Iterable
from datetime import date
from decimal import Decimal
from itertools import permutations
from pathlib import Path

import pytest

from services.tiering.domain.contributions import (
    Filer,
    PolicyShare,
    customer_branch,
    main_policy,
    pending_from_of,
    serving_channel_for,
    serving_for,
)
from services.tiering.domain.customers import (
    CustomerTiering,
    Honorary,
    Outcome,
    apply_honorary,
    apply_profile,
    apply_score,
)
from services.tiering.domain.tiers import Score, is_real_fall
from shared.events.values import Channel, Standard, Tier
from shared.ruleset import DOWNGRADE_TRIGGERS, RulesetError, load_ruleset, parse_ruleset

RULESET_PATH = Path(__file__).resolve().parents[2] / "rulesets" / "individual-2015.yaml"
RULESET = load_ruleset(RULESET_PATH)


def share(
    policy_no: str,
    *,
    channel: Channel = Channel.AGENCY,
    branch: str = "GD-SZ",
    issued_on: date = date(2016, 1, 1),
    points: str = "0.00",
    standard_premium: str = "0.00",
    state: str = "counted",
    pending_until: date | None = None,
) -> PolicyShare:
    return PolicyShare(
        policy_no=policy_no,
        channel=channel,
        branch=branch,
        issued_on=issued_on,
        points=Decimal(points),
        standard_premium=Decimal(standard_premium),
        state=state,  # type: ignore[arg-type]
        pending_until=pending_until,
    )


def score(
    as_of: date,
    *,
    standard_premium: str = "0.00",
    points: str = "0.00",
    trigger: str = "new_business",
    before_cutover: str | None = None,
    policies: tuple[PolicyShare, ...] = (),
    pending_points: str = "0.00",
    pending_from: date | None = None,
) -> Score:
    return Score(
        as_of=as_of,
        points=Decimal(points),
        standard_premium=Decimal(standard_premium),
        serving_channel=None,
        trigger=trigger,
        policies=policies,
        pending_points=Decimal(pending_points),
        pending_from=pending_from,
        legacy_before_cutover=Decimal(before_cutover) if before_cutover is not None else None,
    )


def fold(scores: Iterable[Score], state: CustomerTiering | None = None) -> tuple[CustomerTiering, Outcome]:
    current = state or CustomerTiering()
    outcome = Outcome(state=current, decision=None)
    for item in scores:
        outcome = apply_score(current, score=item, revision=current.score_revision + 1, ruleset=RULESET)
        current = outcome.state
    return current, outcome


def shown(state: CustomerTiering) -> tuple[Tier | None, Standard, Decimal]:
    assert state.shown is not None
    return state.shown.tier, state.shown.standard, state.shown.points


# --- point 3: legacy standing as of the day before cutover, whatever the arrival order ----------------

PRE_CUTOVER_POLICY = share("P1", issued_on=date(2015, 7, 1), points="25000.00", standard_premium="25000.00")
LATER_POLICY = share("P2", issued_on=date(2016, 3, 1), points="1000.00", standard_premium="1000.00")


def test_a_pre_cutover_policy_scored_after_a_later_dated_event_still_makes_a_legacy_gold() -> None:
    """The issue's scenario: 25,000 issued 2015-07-01, then a 2016 event on another policy, either
    order. Scoring dates both scores 2016 once the 2016 event came first; the figure as of 2015-07-31
    (25,000 >= legacy Gold 20,000) is what decides, so both orders give Gold on the legacy standard."""
    pre_first = [
        # the 2015 policy alone, scored on its issue date: still in cooling-off, nothing counted yet
        score(date(2015, 7, 1), before_cutover="25000.00", policies=()),
        score(date(2016, 3, 1), standard_premium="26000.00", points="26000.00", before_cutover="25000.00",
              policies=(PRE_CUTOVER_POLICY, LATER_POLICY)),
    ]
    later_first = [
        score(date(2016, 3, 1), standard_premium="1000.00", points="1000.00", policies=(LATER_POLICY,)),
        score(date(2016, 3, 1), standard_premium="26000.00", points="26000.00", before_cutover="25000.00",
              policies=(PRE_CUTOVER_POLICY, LATER_POLICY)),
    ]
    for order in (pre_first, later_first):
        state, _ = fold(order)
        assert shown(state) == (Tier.GOLD, Standard.LEGACY, Decimal("26000.00"))
        assert state.legacy.vip_before_cutover


@pytest.mark.parametrize(
    ("before_cutover", "standard", "tier"),
    [
        ("20000.00", Standard.LEGACY, Tier.GOLD),  # legacy Gold's lower bound, inclusive
        ("19999.99", Standard.Y2015, None),
        (None, Standard.Y2015, None),  # held no policy then (or scoring did not say): 2015
    ],
)
def test_the_figure_before_cutover_decides_against_legacy_gold(
    before_cutover: str | None, standard: Standard, tier: Tier | None
) -> None:
    state, _ = fold([score(date(2016, 3, 1), standard_premium="25000.00", points="25000.00",
                           before_cutover=before_cutover)])
    assert (state.shown.tier, state.shown.standard) == (tier, standard)  # type: ignore[union-attr]


def test_without_the_figure_the_latest_score_dated_before_cutover_still_decides() -> None:
    """Until scoring sends `legacy_standard_premium_before_cutover`, nothing changes."""
    state, _ = fold([
        score(date(2015, 7, 31), standard_premium="25000.00"),
        score(date(2016, 3, 1), standard_premium="25000.00", points="25000.00"),
    ])
    assert shown(state) == (Tier.GOLD, Standard.LEGACY, Decimal("25000.00"))


# --- point 4: only a real fall ends legacy standing --------------------------------------------------


@pytest.mark.parametrize(
    ("trigger", "previous", "now", "fall"),
    [
        ("surrender", "25000.00", "19999.99", True),
        ("surrender", "25000.00", "20000.00", False),  # still legacy Gold
        ("lapse", "25000.00", "0.00", True),
        ("policyholder_change", "25000.00", "0.00", True),  # the old holder
        ("policyholder_change", "5000.00", "15000.00", False),  # the new holder: the figure went up
        ("policy_reconciled", "25000.00", "10000.00", True),
        ("new_business", "25000.00", "5000.00", False),  # loading: never a fall
        ("additional_premium", "0.00", "5000.00", False),
        ("reinstatement", "0.00", "5000.00", False),
        ("daily_run", "0.00", "0.00", False),
        ("beneficiary_change", "25000.00", "0.00", False),
        ("surrender", None, "0.00", False),  # nothing was there to fall from
    ],
)
def test_is_real_fall(trigger: str, previous: str | None, now: str, fall: bool) -> None:
    before = score(date(2016, 1, 1), standard_premium=previous) if previous is not None else None
    assert is_real_fall(score(date(2016, 2, 1), standard_premium=now, trigger=trigger), previous=before,
                        ruleset=RULESET) is fall


def test_a_legacy_book_loaded_one_policy_at_a_time_stays_legacy() -> None:
    """A roster-less legacy customer whose three policies arrive one by one after cutover: every
    partial figure is below legacy Gold, none is a fall, and the whole book is legacy Platinum."""
    loads = [
        score(date(2026, 10, 8), standard_premium=figure, points=figure, before_cutover="52000.00")
        for figure in ("8000.00", "30000.00", "52000.00")
    ]
    state, _ = fold(loads[:1])
    assert shown(state) == (None, Standard.LEGACY, Decimal("8000.00"))
    state, _ = fold(loads[1:], state)
    assert shown(state) == (Tier.PLATINUM, Standard.LEGACY, Decimal("52000.00"))
    assert not state.legacy.fell_below_after_cutover


def test_a_surrender_below_legacy_gold_ends_legacy_for_good() -> None:
    state, _ = fold([
        score(date(2016, 1, 1), standard_premium="25000.00", points="25000.00", before_cutover="25000.00"),
        score(date(2016, 2, 1), standard_premium="15000.00", points="15000.00", trigger="partial_surrender",
              before_cutover="25000.00"),
        score(date(2016, 3, 1), standard_premium="25000.00", points="25000.00", trigger="additional_premium",
              before_cutover="25000.00"),
    ])
    assert shown(state) == (None, Standard.Y2015, Decimal("25000.00"))


def test_the_downgrade_triggers_live_in_the_ruleset_and_typos_are_refused() -> None:
    assert RULESET.downgrade_triggers == DOWNGRADE_TRIGGERS
    assert "new_business" not in RULESET.downgrade_triggers
    text = RULESET_PATH.read_text(encoding="utf-8")
    narrowed = parse_ruleset(text.replace("downgrade_triggers: [surrender, ", "downgrade_triggers: ["))
    assert "surrender" not in narrowed.downgrade_triggers
    with pytest.raises(RulesetError, match=r"downgrade_triggers: .*unknown policy event type"):
        parse_ruleset(text.replace("downgrade_triggers: [surrender, ", "downgrade_triggers: [surender, "))


# --- point 5: one contribution measure -----------------------------------------------------------------

# A legacy customer: bancassurance has more 2015 points, agency more standard premium.
AGENCY_LEGACY = share("PA", channel=Channel.AGENCY, branch="GD-SZ", points="8000.00", standard_premium="40000.00")
BANK_2015 = share("PB", channel=Channel.BANCASSURANCE, branch="GD-GZ", points="30000.00",
                  standard_premium="30000.00", issued_on=date(2017, 1, 1))


@pytest.mark.parametrize(
    ("standard", "channel", "branch"),
    [
        (Standard.LEGACY, Channel.AGENCY, "GD-SZ"),
        (Standard.Y2015, Channel.BANCASSURANCE, "GD-GZ"),
    ],
)
def test_serving_channel_and_branch_follow_the_contribution_under_the_customers_standard(
    standard: Standard, channel: Channel, branch: str
) -> None:
    policies = (AGENCY_LEGACY, BANK_2015)
    assert serving_channel_for(policies, standard=standard) is channel
    assert customer_branch(policies, standard=standard, crm_branch=None) == branch


def test_a_tie_goes_to_the_channel_of_the_most_recently_issued_tied_policy() -> None:
    older = share("P1", channel=Channel.AGENCY, points="30000.00", issued_on=date(2020, 1, 1))
    newer = share("P2", channel=Channel.BROKERAGE, branch="SH", points="30000.00", issued_on=date(2021, 1, 1))
    for order in permutations((older, newer)):
        assert serving_channel_for(order, standard=Standard.Y2015) is Channel.BROKERAGE
        assert main_policy(order, standard=Standard.Y2015) == newer


def test_channel_totals_decide_not_the_single_largest_policy() -> None:
    policies = (
        share("P1", channel=Channel.AGENCY, points="20000.00"),
        share("P2", channel=Channel.AGENCY, points="20000.00"),
        share("P3", channel=Channel.ECOMMERCE, branch="BJ", points="30000.00"),
    )
    assert serving_channel_for(policies, standard=Standard.Y2015) is Channel.AGENCY
    assert customer_branch(policies, standard=Standard.Y2015, crm_branch=None) == "BJ"


def test_pending_and_excluded_policies_serve_no_channel() -> None:
    policies = (
        share("P1", points="90000.00", state="pending", pending_until=date(2026, 10, 18)),
        share("P2", points="90000.00", state="excluded"),
    )
    assert serving_channel_for(policies, standard=Standard.Y2015) is None
    assert customer_branch(policies, standard=Standard.Y2015, crm_branch=None) is None


def test_a_legacy_customers_decision_carries_the_legacy_serving_channel() -> None:
    state, _ = fold([score(date(2016, 3, 1), standard_premium="70000.00", points="38000.00",
                           before_cutover="40000.00", policies=(AGENCY_LEGACY, BANK_2015))])
    assert state.shown is not None
    assert (state.shown.standard, state.shown.serving_channel, state.shown.branch) == (
        Standard.LEGACY, Channel.AGENCY, "GD-SZ"
    )


# --- point 8: the customer's branch ---------------------------------------------------------------------


def test_the_crm_branch_wins_over_the_main_policy() -> None:
    assert customer_branch((BANK_2015,), standard=Standard.Y2015, crm_branch="BJ-HD") == "BJ-HD"


def test_a_profile_for_a_customer_without_a_decision_is_remembered_for_the_first_one() -> None:
    waiting = apply_profile(CustomerTiering(), branch="BJ-HD", as_of=date(2026, 10, 1), ruleset=RULESET)
    assert waiting.decision is None
    _, first = fold([score(date(2026, 10, 8), points="36000.00", policies=(BANK_2015,))], waiting.state)
    assert first.decision is not None and first.decision.branch == "BJ-HD"


def test_a_profile_publishes_only_when_the_branch_shown_changes() -> None:
    state, _ = fold([score(date(2026, 10, 8), points="36000.00", policies=(BANK_2015,))])
    assert state.shown is not None and state.shown.branch == "GD-GZ"
    same = apply_profile(state, branch="GD-GZ", as_of=date(2026, 10, 9), ruleset=RULESET)
    moved = apply_profile(same.state, branch="BJ-HD", as_of=date(2026, 10, 10), ruleset=RULESET)
    assert same.decision is None and same.state.crm_branch == "GD-GZ"
    assert moved.decision is not None
    assert (moved.decision.branch, moved.decision.tier, moved.decision.trigger, moved.decision.effective_at) == (
        "BJ-HD", Tier.GOLD, "customer_upserted", date(2026, 10, 10)
    )
    again = apply_profile(moved.state, branch="BJ-HD", as_of=date(2026, 10, 11), ruleset=RULESET)
    assert again.decision is None


# --- point 11: honorary VIPs without policies ------------------------------------------------------------

FILER = Filer(channel=Channel.BANCASSURANCE, branch="SH-PD")


def test_an_honorary_vip_without_policies_is_served_by_the_filing_channel_and_branch() -> None:
    granted = apply_honorary(
        CustomerTiering(crm_branch="BJ-HD"),
        honorary=Honorary(tier=Tier.GOLD, channel=FILER.channel, branch=FILER.branch),
        as_of=date(2026, 10, 1),
        ruleset=RULESET,
    )
    assert granted.decision is not None
    assert (granted.decision.tier, granted.decision.serving_channel, granted.decision.branch) == (
        Tier.GOLD, Channel.BANCASSURANCE, "SH-PD"
    )


@pytest.mark.parametrize(
    ("policies", "filer", "expected"),
    [
        ((), FILER, (Channel.BANCASSURANCE, "SH-PD")),
        ((), Filer(channel=Channel.AGENCY), (Channel.AGENCY, "BJ-HD")),  # no filing branch: the CRM's
        ((), None, (None, "BJ-HD")),  # not honorary (or the grant lapsed): nobody serves
        ((AGENCY_LEGACY,), FILER, (Channel.AGENCY, "BJ-HD")),  # a counting policy: the rule for everyone
        ((share("PP", state="pending", points="9.00"),), FILER, (Channel.BANCASSURANCE, "SH-PD")),
    ],
)
def test_serving_for(
    policies: tuple[PolicyShare, ...], filer: Filer | None, expected: tuple[Channel | None, str | None]
) -> None:
    served = serving_for(policies, standard=Standard.Y2015, crm_branch="BJ-HD", honorary_filer=filer)
    assert (served.channel, served.branch) == expected


def test_a_lapsed_honorary_grant_no_longer_serves() -> None:
    state = apply_honorary(
        CustomerTiering(), honorary=Honorary(tier=Tier.GOLD, expires_on=date(2026, 11, 1), channel=Channel.AGENCY),
        as_of=date(2026, 10, 1), ruleset=RULESET,
    ).state
    _, later = fold([score(date(2026, 11, 2))], state)
    assert later.decision is not None
    assert (later.decision.tier, later.decision.serving_channel) == (None, None)


# --- point 13: pending points and the day they count from ------------------------------------------------


@pytest.mark.parametrize(
    ("pending_points", "sent", "policies", "expected"),
    [
        ("36000.00", date(2026, 10, 19), (), date(2026, 10, 19)),  # as scoring sent it
        ("36000.00", None, (share("P1", state="pending", pending_until=date(2026, 10, 18)),), date(2026, 10, 19)),
        (
            "50000.00",
            None,
            (
                share("P1", state="pending", pending_until=date(2026, 10, 25)),
                share("P2", state="pending", pending_until=date(2026, 10, 18)),
                share("P3", state="counted", points="1.00"),
            ),
            date(2026, 10, 19),  # the earliest
        ),
        ("0.00", None, (share("P1", points="1.00"),), None),
    ],
)
def test_pending_from(
    pending_points: str, sent: date | None, policies: tuple[PolicyShare, ...], expected: date | None
) -> None:
    pending = score(date(2026, 10, 8), pending_points=pending_points, pending_from=sent, policies=policies)
    assert pending.points_pending_from == expected
    _, outcome = fold([pending])
    assert outcome.decision is not None
    assert (outcome.decision.pending_points, outcome.decision.pending_from) == (Decimal(pending_points), expected)


def test_pending_from_of_ignores_counted_policies() -> None:
    assert pending_from_of((share("P1", pending_until=date(2026, 1, 1)),)) is None


def test_pending_points_arriving_are_published_though_the_tier_does_not_move() -> None:
    state, _ = fold([score(date(2026, 10, 8))])
    _, outcome = fold([score(date(2026, 10, 9), pending_points="36000.00", pending_from=date(2026, 10, 25))], state)
    assert outcome.decision is not None
    assert (outcome.decision.tier, outcome.decision.points, outcome.decision.pending_points) == (
        None, Decimal("0.00"), Decimal("36000.00")
    )
