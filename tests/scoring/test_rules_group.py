"""The group client's annual standard premium (rules.md section 9), case by case, from the example
group ruleset: annualised premium x the factor of the product type and the largest listed term not above."""

from decimal import Decimal
from typing import Any

import pytest

from services.scoring.domain.group import group_book, group_policy_premium
from services.scoring.domain.policies import Policy
from services.scoring.mapping import policy_of
from shared.events.inbound import PolicyState
from shared.group_ruleset import load_group_ruleset
from shared.ruleset import load_ruleset
from shared.settings import DEFAULT_GROUP_RULESET_PATH, DEFAULT_RULESET_PATH
from tests.builders.group_clients import group_policy_event

RULESET = load_ruleset(DEFAULT_RULESET_PATH)
GROUP = load_group_ruleset(DEFAULT_GROUP_RULESET_PATH)


def policy(**fields: Any) -> Policy:
    event = group_policy_event(policy_no=fields.pop("policy_no", "G1"), client_id="K1", **fields)
    return policy_of(PolicyState.model_validate(event["policy"]))


@pytest.mark.parametrize(
    ("fields", "standard_premium", "listed_term"),
    [
        pytest.param({}, "100000.00", 5, id="traditional 5 years: factor 1.0"),
        pytest.param({"payment_term_years": 4}, "60000.00", 3, id="4 years: largest listed not above is 3 (0.6)"),
        pytest.param({"payment_term_years": 3}, "60000.00", 3, id="3 years exactly: 0.6"),
        pytest.param({"payment_term_years": 2}, "30000.00", 1, id="2 years: 1-year factor 0.3"),
        pytest.param({"payment_term_years": 20}, "100000.00", 5, id="20 years: 5-year factor 1.0"),
        pytest.param({"payment_mode": "monthly", "modal_premium": "1000.00"}, "12000.00", 5, id="monthly x 12"),
        pytest.param({"product_type": "universal"}, "10000.00", 1, id="universal: 0.1 of the annualised premium"),
        pytest.param({"payment_mode": "single", "payment_term_years": 1}, "30000.00", 1,
                     id="single premium: the individual ruleset's single-premium term"),
        pytest.param({"premium_waived": True}, "0.00", 5, id="premium waived: nothing paid"),
        pytest.param({"modal_premium": "33333.33", "payment_term_years": 3}, "20000.00", 3,
                     id="rounded half-up to cents: 19999.998 -> 20000.00"),
    ],
)
def test_a_policys_annual_standard_premium(fields: dict[str, Any], standard_premium: str, listed_term: int) -> None:
    premium = group_policy_premium(policy(**fields), ruleset=RULESET, group_ruleset=GROUP)
    assert premium.standard_premium == Decimal(standard_premium)
    assert premium.listed_term == listed_term


def test_the_book_sums_only_in_force_group_policies() -> None:
    book = group_book(
        [
            policy(policy_no="G1"),
            policy(policy_no="G2", payment_term_years=3),
            policy(policy_no="G3", status="lapsed"),
            policy(policy_no="G4", channel="agency"),
        ],
        ruleset=RULESET,
        group_ruleset=GROUP,
    )
    assert book.annual_standard_premium == Decimal("160000.00")
    assert book.in_force_policies == 2
    assert [premium.policy_no for premium in book.policies] == ["G1", "G2"]


def test_a_client_without_in_force_group_policies_has_an_empty_book() -> None:
    book = group_book([policy(status="surrendered")], ruleset=RULESET, group_ruleset=GROUP)
    assert (book.annual_standard_premium, book.in_force_policies) == (Decimal("0.00"), 0)
