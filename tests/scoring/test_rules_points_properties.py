"""Properties of the points formulas (rules.md sections 2-3) over any valid policy."""

from dataclasses import replace
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from services.scoring.domain.customers import score_customer
from services.scoring.domain.points import points_for, score_policy, standard_premium_for
from services.scoring.domain.policies import Policy
from services.scoring.mapping import policy_document, policy_from_document, policy_of
from shared.events.inbound import PolicyState
from shared.events.values import Channel, PaymentMode, PolicyStatus, ProductType
from shared.ruleset import load_ruleset

RULESET = load_ruleset(Path(__file__).resolve().parents[2] / "rulesets" / "individual-2015.yaml")

money = st.decimals(min_value=0, max_value=10_000_000, places=2, allow_nan=False, allow_infinity=False)
positive_money = st.decimals(min_value="0.01", max_value=10_000_000, places=2)
dates = st.dates(min_value=date(2000, 1, 1), max_value=date(2040, 12, 31))


@st.composite
def policies(draw: st.DrawFn, /, **fixed: Any) -> Policy:
    issued_on = draw(dates)
    state: dict[str, Any] = {
        "policy_no": draw(st.from_regex(r"P[0-9]{1,8}", fullmatch=True)),
        "version": draw(st.integers(min_value=1, max_value=1000)),
        "holder_id": "C1",
        "channel": draw(st.sampled_from(Channel)),
        "branch": "GD-SZ",
        "agent_id": None,
        "status": draw(st.sampled_from(PolicyStatus)),
        "issued_on": issued_on,
        "cooling_off_ends_on": draw(st.none() | st.just(issued_on + timedelta(days=15))),
        "product_type": draw(st.sampled_from(ProductType)),
        "payment_term_years": draw(st.integers(min_value=0, max_value=100)),
        "payment_mode": draw(st.sampled_from(PaymentMode)),
        "modal_premium": draw(money),
        "account_value": draw(money),
        "annuity_converted_premium": draw(money),
        "premium_waived": draw(st.booleans()),
        "paid_up": draw(st.booleans()),
        "loan_outstanding": draw(st.sampled_from([Decimal("0.00")]) | money),
    }
    return policy_of(PolicyState.model_validate(state | fixed))


def _two_places(value: Decimal) -> bool:
    return value.as_tuple().exponent == -2


@given(policies(), dates)
def test_points_are_never_negative_and_have_two_places(subject: Policy, as_of: date) -> None:
    score = score_policy(subject, ruleset=RULESET, as_of=as_of)

    for amount in (score.points, score.standard_premium, score.pending_points):
        assert amount >= 0
        assert _two_places(amount)


@given(policies(), dates)
def test_a_policy_is_counted_pending_or_excluded_and_nothing_in_between(
    subject: Policy, as_of: date
) -> None:
    score = score_policy(subject, ruleset=RULESET, as_of=as_of)

    if score.state == "counted":
        assert score.points == points_for(subject, RULESET)
        assert score.pending_points == 0 and score.pending_until is None
    elif score.state == "pending":
        assert score.points == 0 and score.standard_premium == 0
        assert score.pending_points == points_for(subject, RULESET)
        assert score.pending_until is not None and score.counts_from is not None
        assert as_of <= score.pending_until < score.counts_from  # pending through the last day, counts after
    else:
        assert score.points == score.pending_points == score.standard_premium == 0
        assert score.pending_until is None


@given(policies(), positive_money)
def test_points_are_monotone_in_premium(subject: Policy, raise_by: Decimal) -> None:
    higher = replace(subject, modal_premium=subject.modal_premium + raise_by)

    assert points_for(higher, RULESET) >= points_for(subject, RULESET)
    assert standard_premium_for(higher, RULESET) >= standard_premium_for(subject, RULESET)


@given(policies(status="in_force", channel="agency", loan_outstanding="0.00"), positive_money)
def test_more_premium_strictly_raises_a_counting_premium_policy(
    subject: Policy, raise_by: Decimal
) -> None:
    paying = replace(
        subject,
        product_type=ProductType.PARTICIPATING,
        premium_waived=False,
        paid_up=False,
        annuity_converted_premium=Decimal("0.00"),
        payment_term_years=max(subject.payment_term_years, 1),
    )
    bigger = raise_by * 1000  # large enough to survive X/10 and rounding
    higher = replace(paying, modal_premium=paying.modal_premium + bigger)

    assert points_for(higher, RULESET) > points_for(paying, RULESET)


@given(policies(), st.integers(min_value=0, max_value=10), st.integers(min_value=0, max_value=10))
def test_points_are_monotone_in_term_up_to_ten_years(subject: Policy, first: int, second: int) -> None:
    shorter, longer = sorted((first, second))
    short = replace(subject, payment_term_years=shorter)
    long_ = replace(subject, payment_term_years=longer)

    assert points_for(long_, RULESET) >= points_for(short, RULESET)
    assert standard_premium_for(long_, RULESET) >= standard_premium_for(short, RULESET)


@given(policies(), st.integers(min_value=10, max_value=100))
def test_terms_of_ten_years_and_more_all_count_in_full(subject: Policy, term: int) -> None:
    ten = replace(subject, payment_term_years=10)
    longer = replace(subject, payment_term_years=term)

    assert points_for(longer, RULESET) == points_for(ten, RULESET)
    assert standard_premium_for(longer, RULESET) == standard_premium_for(ten, RULESET)


@given(st.lists(policies(), max_size=8), dates)
def test_a_customer_total_is_the_sum_of_the_rounded_policies(
    subjects: list[Policy], as_of: date
) -> None:
    scores = [score_policy(subject, ruleset=RULESET, as_of=as_of) for subject in subjects]

    customer = score_customer(scores)

    assert customer.points == sum((score.points for score in scores), Decimal(0))
    assert customer.pending_points == sum((score.pending_points for score in scores), Decimal(0))
    assert sorted(customer.policies, key=id) == sorted(scores, key=id)
    if customer.serving_channel is not None:
        assert customer.serving_channel is not Channel.GROUP
        assert customer.points > 0


@given(policies())
def test_the_stored_policy_document_is_the_contracts_own_json_and_reads_back_equal(subject: Policy) -> None:
    """`policy_document` writes the state field by field; it must equal the contract's round trip."""
    values = {name: getattr(subject, name) for name in PolicyState.model_fields}
    assert policy_document(subject) == PolicyState.model_validate(values).model_dump(mode="json")
    assert policy_from_document(policy_document(subject)) == subject
