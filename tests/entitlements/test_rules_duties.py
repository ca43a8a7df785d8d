"""Who pays, no contract no silent zero, withdrawals, separation of duties and reversals: pure rules."""

from datetime import date
from decimal import Decimal

import pytest

from services.entitlements.domain.catalog import Service
from services.entitlements.domain.duties import check_acts_for, check_decider, check_reversal
from services.entitlements.domain.periods import Period, is_withdrawn_by, withdrawn
from services.entitlements.domain.vendors import Contract, CostBearer, contract_for_redemption, cost_bearer
from shared.events.values import Tier
from shared.refusals import Conflict, Forbidden, Invalid, Refused
from shared.ruleset import Ruleset, load_ruleset
from shared.settings import DEFAULT_RULESET_PATH

RULESET: Ruleset = load_ruleset(DEFAULT_RULESET_PATH)
ALL = frozenset(Tier)
BASIC = Service(code="green_channel", name="green channel", category="basic", tiers=ALL, yearly_quota=None)
VALUE_ADDED = Service(code="road_rescue", name="roadside", category="value_added", tiers=ALL, yearly_quota=None)
FEATURED = Service(code="sz_tea", name="tea", category="value_added", tiers=ALL, yearly_quota=1, branch="GD-SZ")


@pytest.mark.parametrize(
    ("service", "channel", "bearer"),
    [
        (BASIC, "agency", CostBearer(kind="hq", name="hq_customer_service")),
        (VALUE_ADDED, "bancassurance", CostBearer(kind="channel", name="bancassurance")),
        (VALUE_ADDED, None, CostBearer(kind="channel", name="unassigned")),
        (FEATURED, "agency", CostBearer(kind="branch", name="GD-SZ")),
    ],
)
def test_who_pays(service: Service, channel: str | None, bearer: CostBearer) -> None:
    assert cost_bearer(service=service, serving_channel=channel) == bearer


def contract(*, branch: str | None, approved: bool = True, code: str = "road_rescue") -> Contract:
    return Contract(contract_id=f"K-{branch}", service_code=code, vendor_id="V1", unit_cost=Decimal("80.00"),
                    branch=branch, reach=None, approved=approved)


def test_a_value_added_redemption_without_a_usable_contract_is_refused_naming_service_and_branch() -> None:
    with pytest.raises(Conflict) as refused:
        contract_for_redemption(service=VALUE_ADDED, contracts=[contract(branch="GD-SZ", approved=False)],
                                branch="GD-SZ", vendor_id=None)
    assert refused.value.reason == "no_contract"
    assert "road_rescue" in refused.value.detail and "GD-SZ" in refused.value.detail


def test_a_basic_service_without_a_contract_is_delivered_in_house_and_a_usable_contract_is_used() -> None:
    assert contract_for_redemption(service=BASIC, contracts=[], branch="GD-SZ", vendor_id=None) is None
    approved = contract(branch="GD-SZ")
    chosen = contract_for_redemption(service=VALUE_ADDED, contracts=[approved], branch="GD-SZ", vendor_id=None)
    assert chosen == approved


PLATINUM = Period(tier=Tier.PLATINUM, start=date(2026, 6, 1), end=date(2027, 5, 31))


@pytest.mark.parametrize(
    ("trigger", "tier_now", "counted_at_opening", "no_longer_counted", "withdrawn_"),
    [
        ("cooling_off_cancellation", Tier.GOLD, frozenset({"A", "B"}), frozenset({"B"}), True),
        ("cooling_off_cancellation", None, frozenset({"B"}), frozenset({"B"}), True),
        ("cooling_off_cancellation", Tier.GOLD, None, frozenset({"B"}), True),
        ("cooling_off_cancellation", Tier.PLATINUM, frozenset({"A", "B"}), frozenset({"B"}), False),
        ("cooling_off_cancellation", Tier.DIAMOND, frozenset({"A", "B"}), frozenset({"B"}), False),
        ("cooling_off_cancellation", Tier.GOLD, frozenset({"A"}), frozenset({"B"}), False),
        ("surrender", Tier.GOLD, frozenset({"A", "B"}), frozenset({"B"}), False),
        ("lapse", None, frozenset({"B"}), frozenset({"B"}), False),
    ],
)
def test_which_cancellations_withdraw_the_open_period(
    trigger: str, tier_now: Tier | None, counted_at_opening: frozenset[str] | None,
    no_longer_counted: frozenset[str], withdrawn_: bool,
) -> None:
    assert is_withdrawn_by(trigger=trigger, period=PLATINUM, tier_now=tier_now,
                           counted_at_opening=counted_at_opening, no_longer_counted=no_longer_counted) is withdrawn_


def test_a_withdrawn_period_ends_the_day_before_the_cancellation() -> None:
    assert withdrawn(PLATINUM, cancelled_on=date(2026, 6, 20)) == Period(
        tier=Tier.PLATINUM, start=date(2026, 6, 1), end=date(2026, 6, 19)
    )


@pytest.mark.parametrize(
    ("acting_for", "branch", "allowed"),
    [(None, "GD-SZ", True), (None, None, True), ("GD-SZ", "GD-SZ", True), ("GD-SZ", "BJ-01", False),
     ("GD-SZ", None, False)],
)
def test_a_branch_scoped_user_acts_only_for_their_branch(acting_for: str | None, branch: str | None,
                                                          allowed: bool) -> None:
    if allowed:
        check_acts_for(acting_for=acting_for, branch=branch, what="a contract")
        return
    with pytest.raises(Forbidden) as refused:
        check_acts_for(acting_for=acting_for, branch=branch, what="a contract")
    assert refused.value.reason == "other_branch" and "GD-SZ" in refused.value.detail


def test_the_decider_differs_from_the_proposer() -> None:
    check_decider(proposed_by="user-a", decided_by="user-b", what="contract K1")
    with pytest.raises(Forbidden) as refused:
        check_decider(proposed_by="user-a", decided_by="user-a", what="contract K1")
    assert refused.value.reason == "separation_of_duties"


REDEEMED_ON = date(2026, 3, 1)


@pytest.mark.parametrize(
    ("reason", "by", "as_of", "refusal", "code"),
    [
        ("no-show", "user-b", REDEEMED_ON, None, None),
        ("no-show", "user-b", date(2026, 3, 31), None, None),  # day 30: the last day of the window
        ("no-show", "user-b", date(2026, 4, 1), Conflict, "reversal_window_passed"),
        (None, "user-b", REDEEMED_ON, Invalid, "reason_required"),
        ("   ", "user-b", REDEEMED_ON, Invalid, "reason_required"),
        ("error", "user-a", REDEEMED_ON, Forbidden, "own_redemption"),
    ],
)
def test_reversal_rules(reason: str | None, by: str, as_of: date, refusal: type[Refused] | None,
                        code: str | None) -> None:
    def attempt() -> None:
        check_reversal(redeemed_on=REDEEMED_ON, redeemed_by="user-a", reversed_by=by, reason=reason, as_of=as_of,
                       ruleset=RULESET)

    if refusal is None:
        attempt()
        return
    with pytest.raises(refusal) as refused:
        attempt()
    assert refused.value.reason == code


def test_the_reversal_window_comes_from_the_ruleset_and_is_named_in_the_refusal() -> None:
    assert RULESET.redemption_reversal_days == 30
    shorter = RULESET.model_copy(update={"redemption_reversal_days": 7})
    with pytest.raises(Conflict) as refused:
        check_reversal(redeemed_on=REDEEMED_ON, redeemed_by="a", reversed_by="b", reason="x",
                       as_of=date(2026, 3, 9), ruleset=shorter)
    assert "7-day reversal window" in refused.value.detail and "2026-03-08" in refused.value.detail
