"""Points of rules.md sections 1-3, cooling-off and the serving channel (section 4), case by case.

Every case uses the shipped ruleset file, so a wrong number in `rulesets/individual-2015.yaml`
fails here as surely as a wrong formula.
"""

from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from services.scoring.domain.customers import score_customer, serving_channel_for
from services.scoring.domain.points import (
    PolicyScore,
    cooling_off_ends_on,
    points_for,
    score_policy,
    standard_premium_for,
)
from services.scoring.domain.policies import Policy
from services.scoring.mapping import policy_of
from shared.events.inbound import PolicyState
from shared.events.values import Channel
from shared.ruleset import load_ruleset

RULESET = load_ruleset(Path(__file__).resolve().parents[2] / "rulesets" / "individual-2015.yaml")
ISSUED = date(2026, 3, 1)
LATER = date(2027, 1, 1)
"""Well past any cooling-off period of the cases below."""


def policy(**changes: Any) -> Policy:
    """A policy as an event carries it, through the same mapping as the service."""
    state: dict[str, Any] = {
        "policy_no": "P100234",
        "version": 1,
        "holder_id": "C000981",
        "channel": "agency",
        "branch": "GD-SZ",
        "agent_id": "A00412",
        "status": "in_force",
        "issued_on": ISSUED.isoformat(),
        "cooling_off_ends_on": "2026-03-16",
        "product_type": "participating",
        "payment_term_years": 10,
        "payment_mode": "annual",
        "modal_premium": "36000.00",
        "account_value": "0.00",
        "annuity_converted_premium": "0.00",
        "premium_waived": False,
        "paid_up": False,
        "loan_outstanding": "0.00",
    }
    return policy_of(PolicyState.model_validate(state | changes))


def case(id_: str, expected: str, **changes: Any) -> Any:
    return pytest.param(changes, Decimal(expected), id=id_)


# --- section 2: the 2015 formula -------------------------------------------------------------------

FORMULA_2015 = [
    case("participating X=10 -> 1 x N", "36000.00", payment_term_years=10),
    case("traditional X=20 -> 1 x N", "36000.00", product_type="traditional", payment_term_years=20),
    case("participating X=9 -> 9/10 x N", "32400.00", payment_term_years=9),
    case("traditional X=9 -> 9/10 x N", "32400.00", product_type="traditional", payment_term_years=9),
    case("traditional X=5 -> 5/10 x N", "18000.00", product_type="traditional", payment_term_years=5),
    case("participating X=1 -> 1/10 x N", "3600.00", payment_term_years=1),
    case("single premium counts as X=1", "3600.00", payment_mode="single", payment_term_years=20),
    case("single premium, term 0", "3600.00", payment_mode="single", payment_term_years=0),
    case(
        "universal -> 0.08 x Z, premium ignored",
        "8000.00",
        product_type="universal",
        account_value="100000.00",
    ),
    case(
        "universal X=3 -> still 0.08 x Z",
        "8000.00",
        product_type="universal",
        payment_term_years=3,
        account_value="100000.00",
    ),
    case(
        "unit-linked -> 0.08 x Z as universal",
        "4000.00",
        product_type="unit_linked",
        account_value="50000.00",
    ),
    case("universal with no account value", "0.00", product_type="universal", account_value="0.00"),
    # N is the annualised premium
    case("annual x 1", "12000.00", payment_mode="annual", modal_premium="12000.00"),
    case("semiannual x 2", "12000.00", payment_mode="semiannual", modal_premium="6000.00"),
    case("quarterly x 4", "12000.00", payment_mode="quarterly", modal_premium="3000.00"),
    case("monthly x 12", "12000.00", payment_mode="monthly", modal_premium="1000.00"),
    case("single taken as it is (0.1 x N)", "1200.00", payment_mode="single", modal_premium="12000.00"),
    case(
        "monthly, X=6",
        "7200.36",
        payment_mode="monthly",
        modal_premium="1000.05",
        payment_term_years=6,
    ),
    # annuity-converted premium is subtracted from N, never below 0
    case("annuity-converted part subtracted", "30000.00", annuity_converted_premium="6000.00"),
    case("annuity-converted all of N", "0.00", annuity_converted_premium="36000.00"),
    case("annuity-converted above N -> 0, not negative", "0.00", annuity_converted_premium="50000.00"),
    case(
        "annuity-converted, then X/10",
        "15000.00",
        payment_term_years=5,
        annuity_converted_premium="6000.00",
    ),
    # rounding: half-up to two places per policy
    case("half-up: 123.445 -> 123.45", "123.45", payment_mode="single", modal_premium="1234.45"),
    case("half-up: 0.005 -> 0.01", "0.01", payment_mode="single", modal_premium="0.05"),
    case(
        "rounds 1199.988 -> 1199.99",
        "1199.99",
        payment_mode="monthly",
        modal_premium="333.33",
        payment_term_years=3,
    ),
    case(
        "account value rounds down 80.004 -> 80.00",
        "80.00",
        product_type="universal",
        account_value="1000.05",
    ),
]


@pytest.mark.parametrize(("changes", "expected"), FORMULA_2015)
def test_2015_points(changes: dict[str, Any], expected: Decimal) -> None:
    subject = policy(**changes)

    score = score_policy(subject, ruleset=RULESET, as_of=LATER)

    assert points_for(subject, RULESET) == expected
    assert score.state == "counted"
    assert score.points == expected
    assert score.points.as_tuple().exponent == -2
    assert f"points {expected}" in score.explanation


# --- section 2: when a policy counts ---------------------------------------------------------------

COUNTING = [
    case("in_force counts", "36000.00", status="in_force"),
    case("premium waived -> N = 0", "0.00", premium_waived=True),
    case("reduced paid-up -> N = 0", "0.00", paid_up=True),
    case(
        "premium waived universal keeps 0.08 x Z",
        "800.00",
        product_type="universal",
        account_value="10000.00",
        premium_waived=True,
    ),
    case(
        "reduced paid-up unit-linked keeps 0.08 x Z",
        "800.00",
        product_type="unit_linked",
        account_value="10000.00",
        paid_up=True,
    ),
    case("loan repaid (0.00 outstanding) counts", "36000.00", loan_outstanding="0.00"),
    *(
        case(f"{channel} channel counts", "36000.00", channel=channel)
        for channel in ("agency", "bancassurance", "brokerage", "ecommerce", "telesales")
    ),
]


@pytest.mark.parametrize(("changes", "expected"), COUNTING)
def test_counting_policies(changes: dict[str, Any], expected: Decimal) -> None:
    score = score_policy(policy(**changes), ruleset=RULESET, as_of=LATER)

    assert score.state == "counted"
    assert score.points == expected


def test_waived_premium_is_explained() -> None:
    score = score_policy(policy(premium_waived=True), ruleset=RULESET, as_of=LATER)

    assert "N = 0 (premium waived)" in score.explanation


EXCLUDED = [
    pytest.param({"status": "lapsed"}, "status lapsed", id="lapsed"),
    pytest.param({"status": "surrendered"}, "status surrendered", id="surrendered"),
    pytest.param({"status": "matured"}, "status matured", id="matured"),
    pytest.param({"status": "terminated"}, "status terminated", id="terminated"),
    pytest.param({"status": "cancelled"}, "cancelled", id="cancelled"),
    pytest.param({"channel": "group"}, "group channel", id="group channel never counts"),
    pytest.param(
        {"channel": "group", "product_type": "universal", "account_value": "90000.00"},
        "group channel",
        id="group channel universal never counts",
    ),
    pytest.param({"loan_outstanding": "0.01"}, "policy loan", id="loan outstanding counts 0"),
    pytest.param(
        {"loan_outstanding": "5000.00", "product_type": "universal", "account_value": "90000.00"},
        "policy loan",
        id="loan on a universal policy counts 0",
    ),
]


@pytest.mark.parametrize(("changes", "reason"), EXCLUDED)
@pytest.mark.parametrize("as_of", [date(2026, 3, 5), LATER], ids=["in cooling-off", "after"])
def test_excluded_policies_earn_nothing(changes: dict[str, Any], reason: str, as_of: date) -> None:
    subject = policy(**changes)

    score = score_policy(subject, ruleset=RULESET, as_of=as_of)

    assert score.state == "excluded"
    assert (score.points, score.standard_premium, score.pending_points) == (Decimal("0.00"),) * 3
    assert score.pending_until is None
    assert score.explanation.startswith("excluded: ")
    assert reason in score.explanation
    assert points_for(subject, RULESET) == Decimal("0.00")
    assert standard_premium_for(subject, RULESET) == Decimal("0.00")


# --- section 3: the legacy standard premium --------------------------------------------------------

LEGACY = [
    case("10 years -> 1.0", "36000.00", payment_term_years=10),
    case("20 years -> 1.0", "36000.00", payment_term_years=20),
    case("9 years -> 0.8 (8 listed)", "28800.00", payment_term_years=9),
    case("8 years -> 0.8", "28800.00", payment_term_years=8),
    case("7 years -> 0.5 (5 listed)", "18000.00", payment_term_years=7),
    case("6 years -> 0.5", "18000.00", payment_term_years=6),
    case("5 years -> 0.5", "18000.00", payment_term_years=5),
    case("4 years -> 0.3 (3 listed)", "10800.00", payment_term_years=4),
    case("3 years -> 0.3", "10800.00", payment_term_years=3),
    case("2 years -> 0.1", "3600.00", payment_term_years=2),
    case("1 year -> 0.1", "3600.00", payment_term_years=1),
    case("single premium -> 0.1", "3600.00", payment_mode="single", payment_term_years=10),
    case("traditional 10 years -> 1.0", "36000.00", product_type="traditional"),
    case("universal -> 0.08 x Z", "8000.00", product_type="universal", account_value="100000.00"),
    case("unit-linked -> 0.08 x Z", "8000.00", product_type="unit_linked", account_value="100000.00"),
    case(
        "monthly annualised, 6 years",
        "6000.00",
        payment_mode="monthly",
        modal_premium="1000.00",
        payment_term_years=6,
    ),
    case("premium waived -> 0", "0.00", premium_waived=True),
    case("annuity-converted subtracted", "30000.00", annuity_converted_premium="6000.00"),
]


@pytest.mark.parametrize(("changes", "expected"), LEGACY)
def test_legacy_standard_premium(changes: dict[str, Any], expected: Decimal) -> None:
    subject = policy(**changes)

    score = score_policy(subject, ruleset=RULESET, as_of=LATER)

    assert standard_premium_for(subject, RULESET) == expected
    assert score.standard_premium == expected
    assert f"standard premium {expected}" in score.explanation


def test_legacy_explanation_names_the_listed_term() -> None:
    score = score_policy(policy(payment_term_years=6), ruleset=RULESET, as_of=LATER)

    assert "listed term 5 (largest not above 6)" in score.explanation


# --- section 4: cooling-off ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("as_of", "state", "points", "pending_points"),
    [
        (date(2026, 3, 15), "pending", "0.00", "36000.00"),
        (date(2026, 3, 16), "pending", "0.00", "36000.00"),
        (date(2026, 3, 17), "counted", "36000.00", "0.00"),
    ],
    ids=["D-1 pending", "D (last day, can still be cancelled) pending", "D+1 counted"],
)
def test_cooling_off_ends_after_its_last_day(as_of: date, state: str, points: str, pending_points: str) -> None:
    """`cooling_off_ends_on` (D = 2026-03-16) is the last day the policy can be cancelled."""
    score = score_policy(policy(), ruleset=RULESET, as_of=as_of)

    assert (score.state, score.points, score.pending_points) == (state, Decimal(points), Decimal(pending_points))
    assert score.standard_premium == Decimal(points)
    assert score.pending_until == (date(2026, 3, 16) if state == "pending" else None)
    assert score.counts_from == (date(2026, 3, 17) if state == "pending" else None)


def test_a_pending_policy_explains_its_last_day_and_the_day_it_counts_from() -> None:
    score = score_policy(policy(), ruleset=RULESET, as_of=date(2026, 3, 16))

    assert score.explanation.startswith("pending until 2026-03-16 (cooling-off's last day), counts from 2026-03-17")


def test_the_issue_day_is_pending() -> None:
    assert score_policy(policy(), ruleset=RULESET, as_of=ISSUED).state == "pending"


@pytest.mark.parametrize(
    ("as_of", "state"),
    [(date(2026, 3, 15), "pending"), (date(2026, 3, 16), "pending"), (date(2026, 3, 17), "counted")],
    ids=["issue + 14 days pending", "issue + 15 days (last day) pending", "issue + 16 days counted"],
)
def test_default_cooling_off_is_issue_date_plus_ruleset_days(as_of: date, state: str) -> None:
    subject = policy(cooling_off_ends_on=None)

    assert cooling_off_ends_on(subject, RULESET) == ISSUED + timedelta(days=15)
    assert score_policy(subject, ruleset=RULESET, as_of=as_of).state == state


def test_an_explicit_cooling_off_date_wins_over_the_default() -> None:
    subject = policy(cooling_off_ends_on="2026-03-31")

    assert cooling_off_ends_on(subject, RULESET) == date(2026, 3, 31)
    assert score_policy(subject, ruleset=RULESET, as_of=date(2026, 3, 31)).state == "pending"
    assert score_policy(subject, ruleset=RULESET, as_of=date(2026, 4, 1)).state == "counted"


def test_cancellation_in_cooling_off_removes_the_pending_points() -> None:
    score = score_policy(policy(status="cancelled"), ruleset=RULESET, as_of=date(2026, 3, 10))

    assert score.state == "excluded"
    assert score.pending_points == Decimal("0.00")
    assert score.pending_until is None


def test_cooling_off_days_come_from_the_ruleset() -> None:
    longer = RULESET.model_copy(update={"cooling_off_days": 20})
    subject = policy(cooling_off_ends_on=None)

    assert score_policy(subject, ruleset=longer, as_of=date(2026, 3, 21)).state == "pending"
    assert score_policy(subject, ruleset=longer, as_of=date(2026, 3, 22)).state == "counted"


def test_factors_come_from_the_ruleset() -> None:
    factors = RULESET.points_2015.model_copy(update={"account_value_factor": Decimal("0.1")})
    changed = RULESET.model_copy(update={"points_2015": factors})
    subject = policy(product_type="universal", account_value="1000.00")

    assert points_for(subject, changed) == Decimal("100.00")
    assert points_for(subject, RULESET) == Decimal("80.00")


# --- the customer ----------------------------------------------------------------------------------


def scored(
    policy_no: str,
    *,
    points: str,
    channel: Channel = Channel.AGENCY,
    issued_on: date = ISSUED,
    state: str = "counted",
    pending_until: date | None = None,
) -> PolicyScore:
    amount = Decimal(points)
    counted = state == "counted"
    return PolicyScore(
        policy_no=policy_no,
        holder_id="C1",
        channel=channel,
        branch="GD-SZ",
        agent_id=None,
        issued_on=issued_on,
        state=state,  # type: ignore[arg-type]
        points=amount if counted else Decimal("0.00"),
        standard_premium=amount if counted else Decimal("0.00"),
        pending_points=amount if state == "pending" else Decimal("0.00"),
        pending_until=pending_until,
        explanation="",
    )


def test_a_customer_sums_counted_and_pending_points_apart() -> None:
    customer = score_customer(
        [
            scored("P1", points="10000.00"),
            scored("P2", points="25000.50"),
            scored("P3", points="7000.00", state="pending", pending_until=date(2026, 4, 2)),
            scored("P4", points="9000.00", state="pending", pending_until=date(2026, 3, 20)),
            scored("P5", points="0.00", state="excluded"),
        ]
    )

    assert customer.points == Decimal("35000.50")
    assert customer.standard_premium == Decimal("35000.50")
    assert customer.pending_points == Decimal("16000.00")
    assert customer.next_pending_date == date(2026, 3, 21)  # P4 counts from the day after its last day


def test_a_customer_with_nothing_pending_has_no_next_date() -> None:
    customer = score_customer([scored("P1", points="10.00")])

    assert customer.next_pending_date is None


def test_a_customer_with_no_policies_has_zero_points() -> None:
    customer = score_customer([])

    assert (customer.points, customer.pending_points, customer.serving_channel) == (
        Decimal("0.00"),
        Decimal("0.00"),
        None,
    )
    assert customer.policies == ()


def test_policies_are_listed_by_points_then_newest_then_number() -> None:
    customer = score_customer(
        [
            scored("P3", points="100.00", issued_on=date(2025, 1, 1)),
            scored("P2", points="100.00", issued_on=date(2025, 6, 1)),
            scored("P1", points="100.00", issued_on=date(2025, 6, 1)),
            scored("P4", points="500.00", issued_on=date(2020, 1, 1)),
        ]
    )

    assert [score.policy_no for score in customer.policies] == ["P4", "P1", "P2", "P3"]


# --- section 4: the serving channel ----------------------------------------------------------------


def test_the_channel_with_the_highest_total_serves() -> None:
    policies = [
        scored("P1", points="30000.00", channel=Channel.AGENCY),
        scored("P2", points="20000.00", channel=Channel.BANCASSURANCE),
        scored("P3", points="20000.00", channel=Channel.BANCASSURANCE),
    ]

    assert serving_channel_for(policies) == Channel.BANCASSURANCE
    assert score_customer(policies).serving_channel == Channel.BANCASSURANCE


@pytest.mark.parametrize("reverse", [False, True], ids=["given order", "reversed"])
def test_a_tie_goes_to_the_channel_of_the_most_recently_issued_tied_policy(reverse: bool) -> None:
    policies = [
        scored("P1", points="20000.00", channel=Channel.AGENCY, issued_on=date(2025, 1, 1)),
        scored("P2", points="10000.00", channel=Channel.BROKERAGE, issued_on=date(2024, 1, 1)),
        scored("P3", points="10000.00", channel=Channel.BROKERAGE, issued_on=date(2025, 2, 1)),
        scored("P4", points="500.00", channel=Channel.TELESALES, issued_on=date(2026, 1, 1)),
    ]

    assert serving_channel_for(reversed(policies) if reverse else policies) == Channel.BROKERAGE


def test_pending_and_excluded_policies_do_not_decide_the_channel() -> None:
    policies = [
        scored("P1", points="1000.00", channel=Channel.AGENCY),
        scored("P2", points="90000.00", channel=Channel.ECOMMERCE, state="pending", pending_until=LATER),
        scored("P3", points="0.00", channel=Channel.TELESALES, state="excluded"),
    ]

    assert serving_channel_for(policies) == Channel.AGENCY


def test_no_serving_channel_when_nothing_counts() -> None:
    policies = [
        scored("P1", points="90000.00", state="pending", pending_until=LATER),
        scored("P2", points="0.00", state="excluded"),
    ]

    assert serving_channel_for(policies) is None


def test_group_policies_never_serve_a_customer() -> None:
    group = score_policy(policy(channel="group", policy_no="G1"), ruleset=RULESET, as_of=LATER)
    agency = score_policy(
        policy(channel="agency", policy_no="A1", modal_premium="10.00"), ruleset=RULESET, as_of=LATER
    )

    assert serving_channel_for([group, agency]) == Channel.AGENCY


def test_a_policy_scored_end_to_end_feeds_the_customer() -> None:
    policies = [
        score_policy(policy(policy_no="P1"), ruleset=RULESET, as_of=date(2026, 3, 17)),
        score_policy(
            policy(policy_no="P2", channel="bancassurance", cooling_off_ends_on="2026-03-20"),
            ruleset=RULESET,
            as_of=date(2026, 3, 17),
        ),
    ]

    customer = score_customer(policies)

    assert customer.points == Decimal("36000.00")
    assert customer.pending_points == Decimal("36000.00")
    assert customer.next_pending_date == date(2026, 3, 21)
    assert customer.serving_channel == Channel.AGENCY


@pytest.mark.parametrize(
    ("changes", "as_of", "verdict"),
    [
        ({}, date(2026, 3, 17), "counted"),
        ({}, date(2026, 3, 16), "pending until 2026-03-16, counts from 2026-03-17"),
        ({"status": "lapsed"}, LATER, "excluded because status lapsed (only in_force policies count)"),
        ({"loan_outstanding": "100.00"}, LATER, "excluded because pledged for a policy loan (100.00 outstanding)"),
    ],
    ids=["counted", "pending", "excluded status", "excluded loan"],
)
def test_the_verdict_says_counted_pending_until_or_excluded_because(
    changes: dict[str, Any], as_of: date, verdict: str
) -> None:
    assert score_policy(policy(**changes), ruleset=RULESET, as_of=as_of).verdict == verdict
