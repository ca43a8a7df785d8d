"""Legacy standing from history (rules.md section 4): the version of each policy in force on the day
before cutover, and the legacy standard premium it gives, case by case at the boundaries."""

from datetime import date, datetime
from decimal import Decimal
from typing import Any

import pytest

from services.scoring.domain.cutover import (
    customers_to_rescore,
    day_before_cutover,
    legacy_standard_premium_before_cutover,
    version_before_cutover,
)
from services.scoring.domain.policies import Policy, PolicyChange
from services.scoring.mapping import policy_of
from shared.events.inbound import PolicyState
from shared.ruleset import load_ruleset
from shared.settings import DEFAULT_RULESET_PATH

RULESET = load_ruleset(DEFAULT_RULESET_PATH)


def policy(**changes: Any) -> Policy:
    state: dict[str, Any] = {
        "policy_no": "P1", "version": 1, "holder_id": "C1", "channel": "agency", "branch": "GD-SZ",
        "agent_id": None, "status": "in_force", "issued_on": "2015-07-01", "cooling_off_ends_on": None,
        "product_type": "traditional", "payment_term_years": 10, "payment_mode": "annual",
        "modal_premium": "25000.00", "account_value": "0.00", "annuity_converted_premium": "0.00",
        "premium_waived": False, "paid_up": False, "loan_outstanding": "0.00",
    }
    return policy_of(PolicyState.model_validate(state | changes))


def change(occurred_at: str, **changes: Any) -> PolicyChange:
    return PolicyChange(event_id="e", event_type="new_business", occurred_at=datetime.fromisoformat(occurred_at),
                        previous_holder_id=None, policy=policy(**changes))


def test_the_day_before_cutover_comes_from_the_ruleset() -> None:
    assert day_before_cutover(RULESET) == date(2015, 7, 31)
    moved = RULESET.model_copy(update={"cutover_date": date(2016, 1, 1)})
    assert day_before_cutover(moved) == date(2015, 12, 31)


@pytest.mark.parametrize(
    ("occurred_at", "kept_version", "version", "expected"),
    [
        ("2015-07-31T23:59:00+08:00", None, 1, "change"),
        ("2015-08-01T00:00:00+08:00", None, 1, "kept"),
        ("2015-07-31T16:30:00+00:00", None, 1, "kept"),  # 2015-08-01 00:30 in Shanghai
        ("2015-07-31T15:30:00+00:00", None, 1, "change"),  # 2015-07-31 23:30 in Shanghai
        ("2015-06-01T10:00:00+08:00", 2, 3, "change"),  # later-arriving, older date, higher version
        ("2015-06-01T10:00:00+08:00", 2, 2, "kept"),
        ("2015-06-01T10:00:00+08:00", 3, 2, "kept"),
        ("2016-06-01T10:00:00+08:00", 2, 5, "kept"),  # after cutover: never the pre-cutover version
    ],
    ids=["last legacy day", "cutover day", "cutover day by zone", "last day by zone", "higher version",
         "same version", "lower version", "after cutover"],
)
def test_the_version_kept_for_the_day_before_cutover(
    occurred_at: str, kept_version: int | None, version: int, expected: str
) -> None:
    kept = policy(version=kept_version) if kept_version is not None else None
    incoming = change(occurred_at, version=version, modal_premium="1.00")

    result = version_before_cutover(incoming, kept=kept, ruleset=RULESET)

    assert result == (incoming.policy if expected == "change" else kept)


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"issued_on": "2015-07-15"}, "25000.00"),  # cooling-off's last day 07-30: counts on 07-31
        ({"issued_on": "2015-07-16"}, "0.00"),  # last day 07-31: still pending then
        ({"cooling_off_ends_on": "2015-07-31"}, "0.00"),
        ({"cooling_off_ends_on": "2015-07-30"}, "25000.00"),
        ({"status": "lapsed"}, "0.00"),
        ({"payment_term_years": 5}, "12500.00"),
    ],
    ids=["issued 07-15", "issued 07-16", "explicit last day 07-31", "explicit last day 07-30", "lapsed",
         "5 years: factor 0.5"],
)
def test_legacy_standard_premium_is_judged_as_of_the_day_before_cutover(
    changes: dict[str, Any], expected: str
) -> None:
    assert legacy_standard_premium_before_cutover([policy(**changes)], ruleset=RULESET) == Decimal(expected)


def test_legacy_figures_add_up_and_none_means_no_policy_then() -> None:
    two = [policy(), policy(policy_no="P2", modal_premium="1000.00")]

    assert legacy_standard_premium_before_cutover(two, ruleset=RULESET) == Decimal("26000.00")
    assert legacy_standard_premium_before_cutover([], ruleset=RULESET) is None


def test_who_is_rescored() -> None:
    applied = policy(version=2)
    stale_pre_cutover = change("2015-07-01T10:00:00+08:00", version=1, holder_id="C9")
    moved_before_cutover = change("2015-07-20T10:00:00+08:00", version=3, holder_id="C2")
    after_cutover = change("2016-01-01T10:00:00+08:00", version=3, holder_id="C2")

    assert customers_to_rescore(stale_pre_cutover, stored=applied, kept=None, ruleset=RULESET) == ["C9"]
    assert customers_to_rescore(stale_pre_cutover, stored=applied, kept=policy(), ruleset=RULESET) == []
    assert customers_to_rescore(moved_before_cutover, stored=applied, kept=policy(), ruleset=RULESET) == ["C2", "C1"]
    assert customers_to_rescore(after_cutover, stored=applied, kept=policy(holder_id="C7"), ruleset=RULESET) == [
        "C2", "C1"
    ]
