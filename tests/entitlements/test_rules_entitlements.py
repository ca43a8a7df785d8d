"""Entitlement rules, straight from rules.md section 6: the catalog, value-added periods, the list,
redemptions, vendor contracts and cost bearers."""

from datetime import date, timedelta
from decimal import Decimal
from typing import Literal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.entitlements.domain.catalog import Service, catalog_from
from services.entitlements.domain.customers import PolicyShare
from services.entitlements.domain.entitlements import (
    Entitlement,
    Granted,
    Standing,
    decide_redemption,
    entitlement_for,
    entitlements_for,
    visible_services,
)
from services.entitlements.domain.periods import (
    Period,
    TierTimeline,
    add_months,
    attains,
    period_after_tier_change,
    period_opening,
    period_rolled_over,
)
from services.entitlements.domain.vendors import (
    Contract,
    check_branch_contract,
    choose_contract,
    cost_bearer,
    customer_branch,
    usable_contracts,
)
from shared.events.values import Channel, Standard, Tier
from shared.refusals import Conflict, Forbidden, Invalid, Refused
from shared.ruleset import Ruleset, load_ruleset
from shared.settings import DEFAULT_RULESET_PATH

D, P, G = Tier.DIAMOND, Tier.PLATINUM, Tier.GOLD
RULESET: Ruleset = load_ruleset(DEFAULT_RULESET_PATH)
CATALOG = catalog_from(RULESET)
BY_CODE = {service.code: service for service in CATALOG}

# rules.md section 6, row by row: code, category, tiers offered, yearly quota (None: unlimited).
RULES_TABLE = [
    ("green_channel", "basic", {D, P, G}, None),
    ("private_butler", "basic", {D, P, G}, None),
    ("claims_angel", "basic", {D, P, G}, None),
    ("policy_service_express", "basic", {D, P, G}, None),
    ("convenience_service", "basic", {D, P, G}, None),
    ("warm_care", "basic", {D, P, G}, None),
    ("news_digest", "basic", {D, P, G}, None),
    ("health_hotline", "value_added", {D, P, G}, None),
    ("expert_appointment", "value_added", {D}, 1),
    ("health_checkup", "value_added", {D}, 1),
    ("domestic_medical_rescue", "value_added", {D, P}, None),
    ("overseas_medical_rescue", "value_added", {D}, None),
    ("road_rescue", "value_added", {D, P, G}, None),
    ("airport_lounge", "value_added", {D, P}, 2),
    ("designated_driver", "value_added", {D, P}, 2),
    ("vip_reading", "value_added", {D, P, G}, 1),
]


def period(tier: Tier, start: str, end: str) -> Period:
    return Period(tier=tier, start=date.fromisoformat(start), end=date.fromisoformat(end))


def timeline(*changes: tuple[str, Tier | None]) -> TierTimeline:
    return TierTimeline(changes=tuple((date.fromisoformat(day), tier) for day, tier in changes))


# --- the catalog ---------------------------------------------------------------------------------


def test_catalog_has_the_sixteen_services_of_rules_md_in_order() -> None:
    assert [service.code for service in CATALOG] == [row[0] for row in RULES_TABLE]


@pytest.mark.parametrize(("code", "category", "tiers", "quota"), RULES_TABLE, ids=[r[0] for r in RULES_TABLE])
def test_catalog_row_matches_rules_md(code: str, category: str, tiers: set[Tier], quota: int | None) -> None:
    service = BY_CODE[code]
    assert (service.category, set(service.tiers), service.yearly_quota) == (category, tiers, quota)
    assert service.branch is None


# --- value-added periods -------------------------------------------------------------------------

PERIOD_CASES = [
    # (case, previous tier, new tier, effective on, opened period or None)
    ("becomes VIP at gold", None, G, "2026-03-16", period(G, "2026-03-16", "2027-03-15")),
    ("becomes VIP straight at diamond", None, D, "2026-03-16", period(D, "2026-03-16", "2027-03-15")),
    ("upgrade gold to platinum", G, P, "2026-06-01", period(P, "2026-06-01", "2027-05-31")),
    ("upgrade platinum to diamond", P, D, "2026-06-01", period(D, "2026-06-01", "2027-05-31")),
    ("honorary diamond lifts a computed gold", G, D, "2026-07-10", period(D, "2026-07-10", "2027-07-09")),
    ("re-attains gold after losing VIP", None, G, "2027-01-05", period(G, "2027-01-05", "2028-01-04")),
    ("downgrade diamond to gold opens nothing", D, G, "2026-09-01", None),
    ("downgrade platinum to gold opens nothing", P, G, "2026-09-01", None),
    ("loss of VIP opens nothing", D, None, "2026-09-01", None),
    ("unchanged tier opens nothing", P, P, "2026-09-01", None),
    ("never VIP stays without period", None, None, "2026-09-01", None),
]


@pytest.mark.parametrize(("case", "previous", "new", "on", "expected"), PERIOD_CASES, ids=[c[0] for c in PERIOD_CASES])
def test_period_after_tier_change(
    case: str, previous: Tier | None, new: Tier | None, on: str, expected: Period | None
) -> None:
    opened = period_after_tier_change(
        previous_tier=previous, new_tier=new, effective_on=date.fromisoformat(on), ruleset=RULESET
    )
    assert opened == expected


@pytest.mark.parametrize(
    ("day", "months", "expected"),
    [
        ("2026-03-16", 12, "2027-03-16"),
        ("2028-02-29", 12, "2029-02-28"),
        ("2026-01-31", 1, "2026-02-28"),
        ("2026-11-30", 3, "2027-02-28"),
        ("2026-12-15", 1, "2027-01-15"),
    ],
)
def test_add_months_clamps_to_month_end(day: str, months: int, expected: str) -> None:
    assert add_months(date.fromisoformat(day), months) == date.fromisoformat(expected)


ROLL_OVER_CASES = [
    # (case, period, tier timeline, as_of, period current on as_of)
    (
        "not yet due on its last day",
        period(G, "2026-03-16", "2027-03-15"),
        timeline(("2026-03-16", G)),
        "2027-03-15",
        period(G, "2026-03-16", "2027-03-15"),
    ),
    (
        "rolls over for a VIP at the same tier",
        period(G, "2026-03-16", "2027-03-15"),
        timeline(("2026-03-16", G)),
        "2027-03-16",
        period(G, "2027-03-16", "2028-03-15"),
    ),
    (
        "rolls over at the lower tier held that day",
        period(D, "2026-03-16", "2027-03-15"),
        timeline(("2026-03-16", D), ("2026-10-01", G)),
        "2027-03-16",
        period(G, "2027-03-16", "2028-03-15"),
    ),
    (
        "no new period for a customer not VIP that day",
        period(D, "2026-03-16", "2027-03-15"),
        timeline(("2026-03-16", D), ("2026-10-01", None)),
        "2027-03-16",
        None,
    ),
    (
        "a later run still uses the tier of the roll-over day",
        period(P, "2026-03-16", "2027-03-15"),
        timeline(("2026-03-16", P), ("2027-03-20", None)),
        "2027-04-01",
        period(P, "2027-03-16", "2028-03-15"),
    ),
    (
        "not VIP on the roll-over day, VIP again later: still none",
        period(P, "2026-03-16", "2027-03-15"),
        timeline(("2026-03-16", P), ("2027-01-01", None), ("2027-03-20", G)),
        "2027-04-01",
        None,
    ),
    (
        "missed runs chain the periods",
        period(G, "2024-03-16", "2025-03-15"),
        timeline(("2024-03-16", G)),
        "2026-04-01",
        period(G, "2026-03-16", "2027-03-15"),
    ),
]


@pytest.mark.parametrize(
    ("case", "current", "tiers", "as_of", "expected"), ROLL_OVER_CASES, ids=[c[0] for c in ROLL_OVER_CASES]
)
def test_period_rolled_over(
    case: str, current: Period, tiers: TierTimeline, as_of: str, expected: Period | None
) -> None:
    rolled = period_rolled_over(period=current, timeline=tiers, as_of=date.fromisoformat(as_of), ruleset=RULESET)
    assert rolled == expected


def test_tier_timeline_takes_the_last_change_on_or_before_the_day() -> None:
    tiers = timeline(("2026-01-01", G), ("2026-05-01", D), ("2026-08-01", None))
    assert [tiers.tier_on(date.fromisoformat(d)) for d in ("2025-12-31", "2026-01-01", "2026-05-02", "2026-08-01")] == [
        None,
        G,
        D,
        None,
    ]


@given(
    start=st.dates(min_value=date(2015, 1, 1), max_value=date(2090, 12, 31)),
    tier=st.sampled_from(list(Tier)),
)
def test_a_period_lasts_the_configured_months_and_its_successor_follows_without_gap(start: date, tier: Tier) -> None:
    opened = period_opening(tier=tier, on=start, ruleset=RULESET)
    assert opened.end == add_months(start, RULESET.value_added_period_months) - timedelta(days=1)
    assert 364 <= (opened.end - opened.start).days <= 365
    successor = period_rolled_over(
        period=opened,
        timeline=TierTimeline(changes=((start, tier),)),
        as_of=opened.end + timedelta(days=1),
        ruleset=RULESET,
    )
    assert successor is not None
    assert successor.start == opened.end + timedelta(days=1)
    assert successor.tier == tier


@given(previous=st.sampled_from([*Tier, None]), new=st.sampled_from([*Tier, None]))
def test_only_an_attained_tier_opens_a_period(previous: Tier | None, new: Tier | None) -> None:
    opened = period_after_tier_change(
        previous_tier=previous, new_tier=new, effective_on=date(2026, 5, 1), ruleset=RULESET
    )
    rises = new is not None and (previous is None or new.rank > previous.rank)
    assert attains(previous=previous, new=new) is rises
    assert (opened is not None) is rises
    if opened is not None:
        assert opened.tier == new


# --- the entitlement list ------------------------------------------------------------------------

AS_OF = date(2026, 6, 1)


def standing(tier: Tier | None, period_tier: Tier | None, branch: str | None = "GD-SZ") -> Standing:
    opened = period(period_tier, "2026-03-16", "2027-03-15") if period_tier else None
    return Standing(tier=tier, period=opened, branch=branch)


def eligible_codes(entitlements: tuple[Entitlement, ...]) -> set[str]:
    return {e.service.code for e in entitlements if e.eligible}


def test_a_diamond_customer_is_entitled_to_every_service_with_full_quotas() -> None:
    listed = entitlements_for(services=CATALOG, standing=standing(D, D), usage={}, as_of=AS_OF)
    assert [(e.service.code, e.eligible, e.quota, e.used, e.remaining) for e in listed] == [
        (code, True, quota, 0, quota) for code, _, _, quota in RULES_TABLE
    ]
    value_added = [e for e in listed if e.service.category == "value_added"]
    assert {(e.period_start, e.period_end) for e in value_added} == {(date(2026, 3, 16), date(2027, 3, 15))}
    assert {(e.period_start, e.period_end) for e in listed if e.service.category == "basic"} == {(None, None)}


@pytest.mark.parametrize("tier", [D, P, G], ids=str)
@pytest.mark.parametrize(("code", "category", "tiers", "quota"), RULES_TABLE, ids=[r[0] for r in RULES_TABLE])
def test_each_tier_is_entitled_exactly_to_its_column(
    tier: Tier, code: str, category: str, tiers: set[Tier], quota: int | None
) -> None:
    entitlement = entitlement_for(service=BY_CODE[code], standing=standing(tier, tier), used=0, as_of=AS_OF)
    assert entitlement.eligible is (tier in tiers)
    assert entitlement.remaining == (None if quota is None else quota if tier in tiers else 0)


def test_a_gold_customer_is_refused_the_airport_lounge() -> None:
    lounge = entitlement_for(service=BY_CODE["airport_lounge"], standing=standing(G, G), used=0, as_of=AS_OF)
    with pytest.raises(Forbidden) as refused:
        decide_redemption(lounge)
    decision = refused.value
    assert isinstance(decision, Refused)
    assert decision.reason == "not_eligible"
    assert "gold" in decision.detail


def test_after_a_downgrade_basic_follows_the_new_tier_and_value_added_keeps_the_period() -> None:
    listed = entitlements_for(services=CATALOG, standing=standing(G, D), usage={}, as_of=AS_OF)
    assert eligible_codes(listed) == {code for code, *_ in RULES_TABLE}


def test_after_loss_of_vip_basic_stops_and_value_added_runs_to_the_period_end() -> None:
    lost = standing(None, P)
    listed = entitlements_for(services=CATALOG, standing=lost, usage={}, as_of=AS_OF)
    assert eligible_codes(listed) == {
        code for code, category, tiers, _ in RULES_TABLE if category == "value_added" and P in tiers
    }
    after_end = entitlements_for(services=CATALOG, standing=lost, usage={}, as_of=date(2027, 3, 16))
    assert eligible_codes(after_end) == set()


def test_a_non_vip_without_period_is_entitled_to_nothing() -> None:
    listed = entitlements_for(services=CATALOG, standing=standing(None, None), usage={}, as_of=AS_OF)
    assert eligible_codes(listed) == set()
    assert all(e.period_start is None for e in listed)


def test_used_units_reduce_remaining_and_never_below_zero() -> None:
    listed = entitlements_for(
        services=CATALOG, standing=standing(P, P), usage={"airport_lounge": 1, "vip_reading": 3}, as_of=AS_OF
    )
    by_code = {e.service.code: e for e in listed}
    assert (by_code["airport_lounge"].used, by_code["airport_lounge"].remaining) == (1, 1)
    assert (by_code["vip_reading"].used, by_code["vip_reading"].remaining) == (3, 0)


REDEMPTION_CASES = [
    # (case, service, customer's tier and period tier, used, decision)
    ("unit left", "airport_lounge", (P, P), 1, Granted(remaining=0)),
    ("first of two", "designated_driver", (D, D), 0, Granted(remaining=1)),
    ("quota used up", "airport_lounge", (D, D), 2, "quota_used_up"),
    ("unlimited value-added", "road_rescue", (G, G), 40, Granted(remaining=None)),
    ("basic unlimited", "green_channel", (G, None), 9, Granted(remaining=None)),
    ("not the tier's service", "health_checkup", (P, P), 0, "not_eligible"),
    ("basic after loss of VIP", "claims_angel", (None, D), 0, "not_eligible"),
    ("value-added without period", "vip_reading", (G, None), 0, "not_eligible"),
]


@pytest.mark.parametrize(
    ("case", "code", "tiers", "used", "expected"), REDEMPTION_CASES, ids=[c[0] for c in REDEMPTION_CASES]
)
def test_decide_redemption(
    case: str, code: str, tiers: tuple[Tier | None, Tier | None], used: int, expected: Granted | str
) -> None:
    entitlement = entitlement_for(service=BY_CODE[code], standing=standing(*tiers), used=used, as_of=AS_OF)
    if isinstance(expected, Granted):
        decision = decide_redemption(entitlement)
        assert decision == expected
    else:
        with pytest.raises(Refused) as refused:
            decide_redemption(entitlement)
        assert isinstance(refused.value, Refused)
        assert refused.value.reason == expected


# --- branch featured services --------------------------------------------------------------------

TEA = Service(
    code="sz_tea_ceremony",
    name="Tea ceremony",
    category="value_added",
    tiers=frozenset({D, P}),
    yearly_quota=1,
    branch="GD-SZ",
)


@pytest.mark.parametrize(
    ("case", "customer", "visible"),
    [
        ("a VIP of the branch", standing(P, P, "GD-SZ"), True),
        ("a VIP of another branch", standing(P, P, "BJ-01"), False),
        ("a customer without branch", standing(P, P, None), False),
        ("a non-VIP of the branch", standing(None, None, "GD-SZ"), False),
        ("a former VIP with an open period", standing(None, D, "GD-SZ"), True),
    ],
)
def test_featured_service_is_shown_only_to_its_branch_vips(case: str, customer: Standing, visible: bool) -> None:
    services = visible_services(catalog=CATALOG, featured=[TEA], standing=customer, as_of=AS_OF)
    assert len(services) == len(CATALOG) + (1 if visible else 0)
    assert (TEA in services) is visible


def test_featured_service_follows_the_period_tier_and_quota() -> None:
    gold = entitlement_for(service=TEA, standing=standing(G, G), used=0, as_of=AS_OF)
    platinum = entitlement_for(service=TEA, standing=standing(P, P), used=1, as_of=AS_OF)
    assert (gold.eligible, platinum.eligible, platinum.remaining) == (False, True, 0)


# --- vendors, contracts and costs ----------------------------------------------------------------


def contract(
    cid: str,
    *,
    vendor: str = "V1",
    cost: str = "300.00",
    branch: str | None = None,
    reach: set[str] | None = None,
    approved: bool = True,
    code: str = "airport_lounge",
) -> Contract:
    return Contract(
        contract_id=cid,
        service_code=code,
        vendor_id=vendor,
        unit_cost=Decimal(cost),
        branch=branch,
        reach=frozenset(reach) if reach is not None else None,
        approved=approved,
    )


HQ_NORTH = contract("hq-north", reach={"BJ-01", "TJ-01"})


@pytest.mark.parametrize(
    ("case", "proposal", "refused_because"),
    [
        ("where HQ does not reach, at HQ cost", contract("b1", branch="GD-SZ", cost="300.00"), None),
        ("where HQ does not reach, cheaper", contract("b1", branch="GD-SZ", cost="250.00"), None),
        ("above the HQ unit cost", contract("b1", branch="GD-SZ", cost="300.01"), "exceeds"),
        ("where HQ already reaches", contract("b1", branch="BJ-01", cost="200.00"), "already reaches"),
        (
            "a service HQ has not contracted",
            contract("b1", branch="GD-SZ", cost="999.00", code="vip_reading"),
            None,
        ),
    ],
)
def test_branch_contract_rules(case: str, proposal: Contract, refused_because: str | None) -> None:
    if refused_because is None:
        check_branch_contract(proposal=proposal, contracts=[HQ_NORTH])
    else:
        with pytest.raises(Conflict, match=refused_because):
            check_branch_contract(proposal=proposal, contracts=[HQ_NORTH])


def test_a_nationwide_hq_contract_leaves_no_room_for_branch_contracts() -> None:
    with pytest.raises(Conflict, match="already reaches"):
        check_branch_contract(proposal=contract("b1", branch="GD-SZ", cost="1.00"), contracts=[contract("hq")])


def test_branch_contract_is_usable_only_after_approval_and_only_in_its_branch() -> None:
    pending = contract("b-pending", branch="GD-SZ", cost="200.00", approved=False)
    approved = contract("b-ok", vendor="V2", branch="GD-SZ", cost="250.00")
    contracts = [HQ_NORTH, pending, approved]
    assert usable_contracts(contracts=contracts, service_code="airport_lounge", branch="GD-SZ") == [approved]
    assert usable_contracts(contracts=contracts, service_code="airport_lounge", branch="BJ-01") == [HQ_NORTH]
    assert usable_contracts(contracts=contracts, service_code="airport_lounge", branch="SH-01") == []


def test_hq_contract_is_preferred_where_it_reaches() -> None:
    contracts = [HQ_NORTH, contract("b-bj", vendor="V9", branch="BJ-01", cost="100.00")]
    assert (
        choose_contract(contracts=contracts, service_code="airport_lounge", branch="BJ-01", vendor_id=None) == HQ_NORTH
    )
    with pytest.raises(Invalid, match="V9"):
        choose_contract(contracts=contracts, service_code="airport_lounge", branch="BJ-01", vendor_id="V9")


def test_choose_contract_takes_the_named_vendor_or_the_cheapest() -> None:
    dear, cheap = contract("hq-a", vendor="VA", cost="320.00"), contract("hq-b", vendor="VB", cost="280.00")
    choose = {"contracts": [dear, cheap], "service_code": "airport_lounge", "branch": "GD-SZ"}
    assert choose_contract(**choose, vendor_id=None) == cheap  # type: ignore[arg-type]
    assert choose_contract(**choose, vendor_id="VA") == dear  # type: ignore[arg-type]
    assert choose_contract(contracts=[], service_code="green_channel", branch="GD-SZ", vendor_id=None) is None


def test_cost_is_borne_by_the_serving_channel_or_the_featured_branch() -> None:
    assert cost_bearer(service=BY_CODE["airport_lounge"], serving_channel="bancassurance").name == "bancassurance"
    assert cost_bearer(service=BY_CODE["airport_lounge"], serving_channel=None).name == "unassigned"
    featured = cost_bearer(service=TEA, serving_channel="agency")
    assert (featured.kind, featured.name) == ("branch", "GD-SZ")


def policy(
    no: str,
    *,
    channel: Channel,
    branch: str,
    points: str,
    issued: str,
    state: Literal["counted", "pending", "excluded"] = "counted",
) -> PolicyShare:
    del no  # a policy's number decides nothing about the branch
    return PolicyShare(
        channel=channel,
        branch=branch,
        issued_on=date.fromisoformat(issued),
        points=Decimal(points),
        standard_premium=Decimal(points),
        state=state,
    )


@pytest.mark.parametrize(
    ("case", "policies", "expected"),
    [
        (
            "highest contribution in the serving channel",
            [
                policy("1", channel=Channel.AGENCY, branch="GD-SZ", points="40000", issued="2020-01-01"),
                policy("2", channel=Channel.AGENCY, branch="GD-GZ", points="10000", issued="2024-01-01"),
                policy("3", channel=Channel.BANCASSURANCE, branch="BJ-01", points="90000", issued="2024-01-01"),
            ],
            "GD-SZ",
        ),
        (
            "a tie goes to the most recently issued",
            [
                policy("1", channel=Channel.AGENCY, branch="GD-SZ", points="40000", issued="2020-01-01"),
                policy("2", channel=Channel.AGENCY, branch="GD-GZ", points="40000", issued="2024-01-01"),
            ],
            "GD-GZ",
        ),
        (
            "a counted policy beats a pending one",
            [
                policy("1", channel=Channel.AGENCY, branch="GD-SZ", points="40000", issued="2020-01-01"),
                policy(
                    "2",
                    channel=Channel.AGENCY,
                    branch="GD-GZ",
                    points="90000",
                    issued="2024-01-01",
                    state="pending",
                ),
            ],
            "GD-SZ",
        ),
        ("no policy: no branch", [], None),
    ],
)
def test_customer_branch(case: str, policies: list[PolicyShare], expected: str | None) -> None:
    assert customer_branch(serving_channel="agency", standard=Standard.Y2015, policies=policies) == expected
