"""Issue 17 points 2, 6 and 7 through the public interfaces of a running platform (`vip up`).

Policy events go to `pas.policy-events`; vendors, contracts and featured services are set up over
entitlements' HTTP API by HQ customer service and a branch-scoped branch user; answers come from the
call-center API and the cost report (`GET /v1/reports/costs`).
"""

import asyncio
import uuid
from collections.abc import Iterator
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest

from shared.topics import POLICY_EVENTS
from tests.builders.policies import policy_event
from tests.e2e.platform import Platform, eventually, running_platform
from tests.support import publish

TOKEN = f"audit-{uuid.uuid4().hex[:8]}"
HQ = f"audit-hq-{uuid.uuid4().hex[:8]}"
SHENZHEN = f"audit-sz-{uuid.uuid4().hex[:8]}"
TODAY = datetime.now(ZoneInfo("Asia/Shanghai")).date().isoformat()

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def platform(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Platform]:
    tokens = f"{TOKEN}=call_center+ops+admin,{HQ}=hq_customer_service,{SHENZHEN}=branch_ops@GD-SZ"
    with running_platform(tmp_path_factory.mktemp("vip-up-audit"), tokens=tokens) as up:
        yield up


def _call(method: str, url: str, token: str = TOKEN, **kwargs: Any) -> httpx.Response:
    return httpx.request(method, url, headers={"Authorization": f"Bearer {token}", **kwargs.pop("headers", {})},
                         timeout=10, **kwargs)


def _customer(platform: Platform, customer_id: str) -> dict[str, Any] | None:
    answer = _call("GET", f"{platform.entitlements}/v1/customers/{customer_id}")
    return answer.json() if answer.status_code == 200 else None


def _settles_at(platform: Platform, customer_id: str, **expected: Any) -> dict[str, Any]:
    def matches() -> dict[str, Any] | None:
        found = _customer(platform, customer_id)
        return found if found and all(found[key] == value for key, value in expected.items()) else None

    return dict(eventually(f"{customer_id} shows {expected}", matches))


def _ids() -> tuple[str, str]:
    suffix = uuid.uuid4().hex[:8].upper()
    return f"C{suffix}", f"P{suffix}"


def _send(platform: Platform, *events: dict[str, Any]) -> None:
    asyncio.run(publish(platform.bootstrap_servers, POLICY_EVENTS, [(e["policy"]["policy_no"], e) for e in events]))


def _redeem(platform: Platform, customer_id: str, code: str) -> httpx.Response:
    return _call("POST", f"{platform.entitlements}/v1/customers/{customer_id}/entitlements/{code}/redemptions",
                 json={"vendor_id": None, "note": None}, headers={"Idempotency-Key": uuid.uuid4().hex})


def _entitlements(platform: Platform, customer_id: str) -> dict[str, dict[str, Any]]:
    listed = _call("GET", f"{platform.entitlements}/v1/customers/{customer_id}/entitlements").json()
    return {entry["code"]: entry for entry in listed["entitlements"]}


def _cost_report(platform: Platform) -> dict[str, Any]:
    answer = _call("GET", f"{platform.entitlements}/v1/reports/costs", params={"from": TODAY, "to": TODAY})
    assert answer.status_code == 200, answer.text
    return dict(answer.json())


def _sign(platform: Platform, vendor_id: str, *codes: str, unit_cost: str) -> None:
    base = platform.entitlements
    added = _call("POST", f"{base}/v1/vendors", HQ, json={"vendor_id": vendor_id, "name": vendor_id})
    assert added.status_code in (201, 409), added.text
    for code in codes:
        signed = _call("POST", f"{base}/v1/contracts", HQ,
                       json={"service_code": code, "vendor_id": vendor_id, "unit_cost": unit_cost})
        assert signed.status_code == 201, signed.text


def test_a_late_cooling_off_cancellation_withdraws_the_period_it_granted(platform: Platform) -> None:
    """17.2: the upgrade the cancelled policy granted is withdrawn; its redemption is flagged."""
    customer, first = _ids()
    second = f"{first}B"
    _sign(platform, "V-LOUNGE", "airport_lounge", unit_cost="300.00")
    _send(platform, policy_event(policy_no=first, holder_id=customer, modal_premium="36000.00"))
    gold = _settles_at(platform, customer, tier="gold")
    gold_period = _entitlements(platform, customer)["vip_reading"]["period_start"]
    upgrade = {"issued_on": "2026-09-20", "cooling_off_ends_on": "2026-10-05", "modal_premium": "40000.00"}
    _send(platform, policy_event(policy_no=second, holder_id=customer, occurred_at="2026-10-10T10:00:00+08:00",
                                 **upgrade))
    _settles_at(platform, customer, tier="platinum")
    lounge = _redeem(platform, customer, "airport_lounge")
    assert lounge.status_code == 201, lounge.text

    _send(platform, policy_event(policy_no=second, holder_id=customer, version=2,
                                 event_type="cooling_off_cancellation", status="cancelled",
                                 occurred_at="2026-10-05T10:00:00+08:00", **upgrade))
    _settles_at(platform, customer, tier="gold", points=gold["points"])
    after = _entitlements(platform, customer)

    assert after["airport_lounge"]["eligible"] is False
    assert (after["vip_reading"]["eligible"], after["vip_reading"]["period_start"]) == (True, gold_period)
    flagged = [row for row in _cost_report(platform)["rows"] if row["service_code"] == "airport_lounge"]
    assert [(row["withdrawn_grant"], row["redemptions"], row["cost"]) for row in flagged] == [(True, 1, "300.00")]


def test_who_pays_basic_value_added_and_featured_services(platform: Platform) -> None:
    """17.6: basic → HQ customer service, value-added → the serving channel, featured → its branch."""
    customer, policy = _ids()
    _sign(platform, "V-READ", "vip_reading", unit_cost="20.00")
    featured = {"code": f"sz_tea_{uuid.uuid4().hex[:6]}", "name": "Tea", "branch": "GD-SZ", "tiers": ["gold"],
                "unit_cost": "15.00"}
    registered = _call("POST", f"{platform.entitlements}/v1/featured-services", SHENZHEN, json=featured)
    assert registered.status_code == 201, registered.text
    decided = _call("POST", f"{platform.entitlements}/v1/featured-services/{featured['code']}/decisions", HQ,
                    json={"decision": "approve"})
    assert decided.status_code == 200, decided.text
    _send(platform, policy_event(policy_no=policy, holder_id=customer, modal_premium="36000.00",
                                 channel="bancassurance"))
    _settles_at(platform, customer, tier="gold", serving_channel="bancassurance")

    answers = [_redeem(platform, customer, code) for code in ("green_channel", "vip_reading", featured["code"])]
    assert [answer.status_code for answer in answers] == [201, 201, 201], [a.text for a in answers]
    history = _call("GET", f"{platform.entitlements}/v1/customers/{customer}/redemptions").json()["redemptions"]
    bearers = {record["code"]: record["borne_by"] for record in history}

    assert bearers == {
        "green_channel": {"kind": "hq", "name": "hq_customer_service"},
        "vip_reading": {"kind": "channel", "name": "bancassurance"},
        featured["code"]: {"kind": "branch", "name": "GD-SZ"},
    }
    by_bearer = {(entry["bearer_kind"], entry["bearer"]) for entry in _cost_report(platform)["by_bearer"]}
    assert {("hq", "hq_customer_service"), ("channel", "bancassurance"), ("branch", "GD-SZ")} <= by_bearer


def test_a_value_added_redemption_without_a_contract_is_refused_not_recorded_at_zero(platform: Platform) -> None:
    """17.7: no usable contract → 409 naming the service and the branch; nothing recorded."""
    customer, policy = _ids()
    _send(platform, policy_event(policy_no=policy, holder_id=customer, modal_premium="36000.00", branch="BJ-01"))
    _settles_at(platform, customer, tier="gold")

    refused = _redeem(platform, customer, "road_rescue")
    history = _call("GET", f"{platform.entitlements}/v1/customers/{customer}/redemptions").json()["redemptions"]

    assert (refused.status_code, refused.json()["reason"]) == (409, "no_contract")
    assert "road_rescue" in refused.json()["detail"] and "BJ-01" in refused.json()["detail"]
    assert history == []
    assert _entitlements(platform, customer)["road_rescue"]["used"] == 0
