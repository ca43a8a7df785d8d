"""Issue 17's edge cases on tiering's side, through the public interfaces of a running platform
(`vip up`): policy and CRM events in, the call-center API (entitlements), tiering's tier history and
the honorary applications API out.
"""

import asyncio
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from shared.topics import CUSTOMER_EVENTS, POLICY_EVENTS
from tests.builders.policies import policy_event
from tests.e2e.platform import Platform, eventually, running_platform
from tests.support import publish

TOKEN = f"audit-{uuid.uuid4().hex[:8]}"
APPROVERS = ("branch_ops", "branch_gm", "hq_business", "hq_customer_service", "hq_executive")
TOKENS = {role: f"{role}-{uuid.uuid4().hex[:8]}" for role in ("honorary_applicant", *APPROVERS)}

pytestmark = pytest.mark.e2e

LEGACY_POLICY = {"product_type": "traditional", "payment_term_years": 10}


@pytest.fixture(scope="module")
def platform(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Platform]:
    tokens = ",".join([f"{TOKEN}=call_center+ops+admin", *(f"{token}={role}" for role, token in TOKENS.items())])
    with running_platform(tmp_path_factory.mktemp("vip-up-audit"), tokens=tokens) as up:
        yield up


def _get(url: str) -> httpx.Response:
    return httpx.get(url, headers={"Authorization": f"Bearer {TOKEN}"}, timeout=5)


def _customer(platform: Platform, customer_id: str) -> dict[str, Any] | None:
    answer = _get(f"{platform.entitlements}/v1/customers/{customer_id}")
    return answer.json() if answer.status_code == 200 else None


def _history(platform: Platform, customer_id: str) -> list[dict[str, Any]]:
    answer = _get(f"{platform.tiering}/v1/customers/{customer_id}/tier-history")
    return list(answer.json()["decisions"]) if answer.status_code == 200 else []


def _settles_at(platform: Platform, customer_id: str, **expected: Any) -> dict[str, Any]:
    def matches() -> dict[str, Any] | None:
        found = _customer(platform, customer_id)
        return found if found and all(found[key] == value for key, value in expected.items()) else None

    return dict(eventually(f"{customer_id} shows {expected}", matches))


def _customer_id() -> str:
    return f"C{uuid.uuid4().hex[:8].upper()}"


def _send(platform: Platform, *events: dict[str, Any]) -> None:
    """Each event on its own, in this order (a batch could otherwise reorder nothing, but be explicit)."""
    for event in events:
        asyncio.run(publish(platform.bootstrap_servers, POLICY_EVENTS, [(event["policy"]["policy_no"], event)]))


def _crm(platform: Platform, customer_id: str, event: dict[str, Any]) -> None:
    asyncio.run(publish(platform.bootstrap_servers, CUSTOMER_EVENTS, [(customer_id, event)]))


def _roster(customer_id: str) -> dict[str, Any]:
    return {"event_id": uuid.uuid4().hex, "event_type": "legacy_vip_imported",
            "occurred_at": "2026-10-01T09:00:00+08:00", "customer_id": customer_id, "tier": "gold",
            "since": "2012-03-01"}


# --- point 3: legacy standing as of the day before cutover, whatever the arrival order ---------------


def _pre_cutover_and_later(customer: str) -> tuple[dict[str, Any], dict[str, Any]]:
    pre_cutover = policy_event(
        policy_no=f"P{customer}A", holder_id=customer, modal_premium="25000.00", issued_on="2015-07-01",
        cooling_off_ends_on="2015-07-16", occurred_at="2015-07-01T10:00:00+08:00", **LEGACY_POLICY,
    )
    later = policy_event(
        policy_no=f"P{customer}B", holder_id=customer, modal_premium="1000.00", issued_on="2016-02-01",
        cooling_off_ends_on="2016-02-16", occurred_at="2016-03-01T10:00:00+08:00", **LEGACY_POLICY,
    )
    return pre_cutover, later


@pytest.mark.parametrize("pre_cutover_first", [True, False], ids=["pre-cutover-first", "2016-event-first"])
def test_a_policy_in_force_the_day_before_cutover_makes_a_legacy_gold_in_either_order(
    platform: Platform, pre_cutover_first: bool
) -> None:
    customer = _customer_id()
    pre_cutover, later = _pre_cutover_and_later(customer)
    _send(platform, *((pre_cutover, later) if pre_cutover_first else (later, pre_cutover)))
    # 25,000 standard premium on 2015-07-31 (>= legacy Gold 20,000); 26,000 under 2015 is below Gold 30,000.
    _settles_at(platform, customer, tier="gold", standard="legacy", points="26000.00")


# --- point 4: only a real fall ends legacy standing ---------------------------------------------------


def test_a_legacy_customer_whose_policies_arrive_one_by_one_stays_legacy(platform: Platform) -> None:
    customer = _customer_id()
    _crm(platform, customer, _roster(customer))
    for number, premium in enumerate(("8000.00", "8000.00", "9000.00"), start=1):
        _send(platform, policy_event(policy_no=f"P{customer}{number}", holder_id=customer, modal_premium=premium,
                                     occurred_at=f"2026-10-0{number}T10:00:00+08:00", **LEGACY_POLICY))
        # every partial book (8,000, then 16,000) is below legacy Gold: loading is not a fall
    shown = _settles_at(platform, customer, tier="gold", standard="legacy", points="25000.00")
    assert shown["vip_since"] == "2012-03-01"
    assert all(decision["standard"] == "legacy" for decision in _history(platform, customer))

    # a real fall (a surrender below legacy Gold) ends it for good: 16,000 under 2015 is no tier
    _send(platform, policy_event(policy_no=f"P{customer}3", holder_id=customer, modal_premium="9000.00",
                                 version=2, event_type="surrender", status="surrendered",
                                 occurred_at="2026-10-05T10:00:00+08:00", **LEGACY_POLICY))
    _settles_at(platform, customer, tier=None, standard="2015", points="16000.00")


# --- point 5: one contribution measure ---------------------------------------------------------------


def test_a_legacy_customer_is_served_by_the_channel_with_the_highest_standard_premium(platform: Platform) -> None:
    customer = _customer_id()
    _crm(platform, customer, _roster(customer))
    _send(
        platform,
        # agency: 10 years x 34,000 = 34,000 under both standards
        policy_event(policy_no=f"P{customer}A", holder_id=customer, modal_premium="34000.00", **LEGACY_POLICY),
        # bancassurance: 9 years x 40,000 = 36,000 points (2015) but 0.8 x 40,000 = 32,000 standard premium
        policy_event(policy_no=f"P{customer}B", holder_id=customer, modal_premium="40000.00", channel="bancassurance",
                     branch="GD-GZ", product_type="traditional", payment_term_years=9,
                     occurred_at="2026-10-09T10:00:00+08:00"),
    )
    _settles_at(platform, customer, tier="platinum", standard="legacy", points="66000.00", serving_channel="agency")
    assert _history(platform, customer)[0]["branch"] == "GD-SZ"


# --- point 8: the customer's branch -------------------------------------------------------------------


def test_the_crm_branch_is_the_customers_branch(platform: Platform) -> None:
    customer = _customer_id()
    _send(platform, policy_event(policy_no=f"P{customer}", holder_id=customer, modal_premium="36000.00"))
    _settles_at(platform, customer, tier="gold")
    assert _history(platform, customer)[0]["branch"] == "GD-SZ"
    _crm(platform, customer, {
        "event_id": uuid.uuid4().hex, "event_type": "customer_upserted", "occurred_at": "2026-10-10T09:00:00+08:00",
        "customer": {"customer_id": customer, "name": "Li Lei", "birthday": "1970-05-01", "branch": "BJ-HD"},
    })
    newest = eventually("the branch moves", lambda: (h := _history(platform, customer)) and h[0]["branch"] == "BJ-HD"
                        and h[0])
    assert (newest["trigger"], newest["tier"]) == ("customer_upserted", "gold")


# --- point 11: honorary VIPs without policies -----------------------------------------------------------


def test_an_honorary_vip_without_policies_is_served_by_the_filing_channel(platform: Platform) -> None:
    customer = _customer_id()

    def post(path: str, role: str, body: dict[str, Any]) -> dict[str, Any]:
        answer = httpx.post(f"{platform.tiering}{path}", json=body, timeout=10,
                            headers={"Authorization": f"Bearer {TOKENS[role]}"})
        assert answer.status_code in (200, 201), answer.text
        return dict(answer.json())

    application = post("/v1/honorary-applications", "honorary_applicant", {
        "customer_id": customer, "tier": "platinum", "reason": "member of the provincial people's congress",
        "expires_on": None, "channel": "bancassurance", "branch": "SH-PD",
    })
    for role in APPROVERS:
        post(f"/v1/honorary-applications/{application['id']}/decisions", role, {"decision": "approve",
                                                                                 "comment": "agreed"})
    shown = _settles_at(platform, customer, tier="platinum", honorary=True)
    assert (shown["serving_channel"], shown["points"]) == ("bancassurance", "0.00")
    assert _history(platform, customer)[0]["branch"] == "SH-PD"


# --- point 13: pending points at the call center ----------------------------------------------------------


def test_a_customer_in_cooling_off_sees_the_pending_points_and_when_they_count(platform: Platform) -> None:
    customer = _customer_id()
    _send(platform, policy_event(policy_no=f"P{customer}", holder_id=customer, modal_premium="36000.00",
                                 issued_on="2026-10-03", cooling_off_ends_on="2026-10-18",
                                 occurred_at="2026-10-03T10:00:00+08:00"))
    shown = _settles_at(platform, customer, pending_points="36000.00")
    assert (shown["tier"], shown["points"], shown["pending_from"]) == (None, "0.00", "2026-10-19")
