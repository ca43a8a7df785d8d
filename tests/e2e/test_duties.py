"""The representative's duties through the public interfaces (rules.md section 7): `vip up`, `vip
publish` of CRM, policy and HR events, and assignment's HTTP API for the call center, the
representative and operations.

One VIP's story: a CRM birthday and a new Gold customer give delivery items; the daily run of the new
year generates the year's holiday items with the lunar dates; an SMS where only a visit counts is
refused and the item stays open; a reported claim gives a help item; the representative's departure
moves the open items; the compliance view counts them; losing VIP cancels what is still to be done.
"""

import json
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.e2e.platform import Platform, eventually, running_platform, vip

SUFFIX = uuid.uuid4().hex[:6].upper()
OPS, CALL_CENTER, REPRESENTATIVE = (f"{role}-{SUFFIX}" for role in ("ops", "cc", "rep"))
TOKENS = f"{OPS}=ops+admin,{CALL_CENTER}=call_center,{REPRESENTATIVE}=representative"
CUSTOMER, FIRST, SECOND = f"CD{SUFFIX}", f"R1{SUFFIX}", f"R2{SUFFIX}"

pytestmark = pytest.mark.e2e


def _call(method: str, url: str, token: str = OPS, **kwargs: Any) -> httpx.Response:
    return httpx.request(method, url, headers={"Authorization": f"Bearer {token}"}, timeout=30, **kwargs)


def _publish(platform: Platform, name: str, events: list[dict[str, Any]]) -> None:
    path = platform.data_dir / f"{name}.jsonl"
    path.write_text("".join(json.dumps(event) + "\n" for event in events), encoding="utf-8")
    done = vip("publish", str(path), "--bootstrap-servers", platform.bootstrap_servers)
    assert done.returncode == 0, done.stdout + done.stderr


def _agent(agent_id: str) -> dict[str, Any]:
    return {
        "event_id": uuid.uuid4().hex, "event_type": "agent_upserted", "occurred_at": "2026-01-05T09:00:00+08:00",
        "agent": {"agent_id": agent_id, "name": f"Rep {agent_id}", "channel": "agency", "branch": "GD-SZ",
                  "role": "agent", "top_performer": False, "eligible": True},
    }


def _policy(policy_no: str, *, agent_id: str, premium: str, event_type: str = "new_business",
            status: str = "in_force", version: int = 1, at: str = "2026-11-25T10:00:00+08:00") -> dict[str, Any]:
    return {
        "event_id": uuid.uuid4().hex, "event_type": event_type, "occurred_at": at, "previous_holder_id": None,
        "policy": {
            "policy_no": policy_no, "version": version, "holder_id": CUSTOMER, "channel": "agency",
            "branch": "GD-SZ", "agent_id": agent_id, "status": status, "issued_on": "2026-11-20",
            "cooling_off_ends_on": "2026-11-21", "product_type": "participating", "payment_term_years": 10,
            "payment_mode": "annual", "modal_premium": premium, "account_value": "0.00",
            "annuity_converted_premium": "0.00", "premium_waived": False, "paid_up": False, "loan_outstanding": "0.00",
        },
    }


@pytest.fixture(scope="module")
def platform(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Platform]:
    future = {"VIP_ALLOW_FUTURE_DAILY_RUN": "true"}
    with running_platform(tmp_path_factory.mktemp("vip-up-duties"), tokens=TOKENS, env=future) as up:
        yield up


def _items(platform: Platform, agent_id: str, *, view: str = "pending") -> list[dict[str, Any]]:
    response = _call("GET", f"{platform.url(2)}/v1/representatives/{agent_id}/work-items",
                     REPRESENTATIVE, params={"view": view, "as_of": "2027-01-01", "limit": 100})
    assert response.status_code == 200, response.text
    return list(response.json()["items"])


def test_a_vips_duties_from_crm_birthday_to_losing_vip(platform: Platform) -> None:
    assignment = platform.url(2)
    birthday = {
        "event_id": uuid.uuid4().hex, "event_type": "customer_upserted", "occurred_at": "2026-11-01T10:00:00+08:00",
        "customer": {"customer_id": CUSTOMER, "name": "Zhao Min", "birthday": "1970-06-15", "branch": "GD-SZ"},
    }
    _publish(platform, "agents", [_agent(FIRST), _agent(SECOND), birthday])
    eventually("the representatives' profiles", lambda: _call(
        "GET", f"{assignment}/v1/representatives/{SECOND}/customers").status_code == 200)
    _publish(platform, "policies", [
        _policy(f"PA{SUFFIX}", agent_id=FIRST, premium="36000.00"),
        _policy(f"PB{SUFFIX}", agent_id=SECOND, premium="1000.00"),
    ])

    # a new Gold VIP: a delivery item for the new policy that made them VIP (and for each new one a tier
    # decision shows), held by the representative on the top policy
    wanted = f"policy PA{SUFFIX} delivered"
    deliveries = eventually("the delivery item", lambda: [
        item for item in _items(platform, FIRST) if item["duty"] == "policy_delivery"])
    assert wanted in {item["occasion"] for item in deliveries}
    assert all(item["channels"] == ["visit"] and item["due_on"] == "2026-11-30" for item in deliveries)

    # the daily run of the new year generates the year's holiday items, with the lunar dates
    run = _call("POST", f"{assignment}/v1/daily-runs", json={"as_of": "2027-01-01"})
    assert run.status_code == 200, run.text
    holidays = {item["occasion"]: item["due_on"] for item in _items(platform, FIRST) if item["duty"] == "holiday_care"}
    assert holidays == {
        "Spring Festival 2027": "2027-02-06", "Mother's Day 2027": "2027-05-09", "Birthday 2027": "2027-06-15",
        "Father's Day 2027": "2027-06-20", "Mid-Autumn 2027": "2027-09-15", "National Day 2027": "2027-10-01",
    }

    # a delivery done by SMS, where only a visit counts, is refused and stays open; a visit counts
    delivery = next(item for item in deliveries if item["occasion"] == wanted)
    done_url = f"{assignment}/v1/work-items/{delivery['item_id']}/completion"
    by_sms = _call("POST", done_url, REPRESENTATIVE, json={"done_on": "2026-11-28", "channel": "sms"})
    assert by_sms.status_code == 422 and by_sms.json()["reason"] == "channel_not_allowed", by_sms.text
    assert "allowed visit" in by_sms.json()["detail"]
    still = {item["item_id"]: item["state"] for item in _items(platform, FIRST, view="overdue")}
    assert still[delivery["item_id"]] in {"open", "overdue"}
    by_visit = _call("POST", done_url, REPRESENTATIVE,
                     json={"done_on": "2026-11-28", "channel": "visit", "note": "policy and manual delivered"})
    assert by_visit.status_code == 200 and by_visit.json()["on_time"], by_visit.text

    # a claim the call center reports gives a one-to-one help item
    claim = _call("POST", f"{assignment}/v1/customers/{CUSTOMER}/service-requests", CALL_CENTER,
                  json={"kind": "claim", "reference": "CLM-1", "note": "hospital stay"})
    assert claim.status_code == 201, claim.text
    assert claim.json()["duty"] == "one_to_one_help" and claim.json()["agent_id"] == FIRST

    # the representative leaves: the open items move to the new one
    open_before = {item["item_id"] for item in _items(platform, FIRST)}
    assert delivery["item_id"] not in open_before and claim.json()["item_id"] in open_before
    _publish(platform, "departure", [{
        "event_id": uuid.uuid4().hex, "event_type": "agent_departed", "occurred_at": "2026-12-01T09:00:00+08:00",
        "agent_id": FIRST, "departed_on": "2026-12-01",
    }])
    moved = eventually("the open items to move", lambda: {
        item["item_id"] for item in _items(platform, SECOND)} == open_before)
    assert moved and _items(platform, FIRST) == []

    # the compliance view counts them
    year = _call("GET", f"{assignment}/v1/customers/{CUSTOMER}/duties", params={"year": 2026}).json()
    counts = {row["duty"]: row for row in year["duties"]}
    assert (counts["policy_delivery"]["items"], counts["policy_delivery"]["on_time"]) == (len(deliveries), 1)
    assert counts["one_to_one_help"]["items"] == 1 and not year["compliant"]
    figures = _call("GET", f"{assignment}/v1/ops/duties", params={"year": 2026}).json()
    assert {row["key"] for row in figures["by_representative"]} >= {FIRST, SECOND}

    # the customer surrenders the big policy and stops being VIP: what is still to be done is cancelled
    _publish(platform, "surrender", [_policy(f"PA{SUFFIX}", agent_id=FIRST, premium="36000.00", event_type="surrender",
                                             status="surrendered", version=2, at="2026-12-01T11:00:00+08:00")])
    eventually("the items to be cancelled", lambda: _items(platform, SECOND) == [])
    after = _call("GET", f"{assignment}/v1/customers/{CUSTOMER}/duties", params={"year": 2027}).json()
    assert {item["state"] for item in after["items"]} == {"cancelled"}
    done_stays = _call("GET", f"{assignment}/v1/customers/{CUSTOMER}/duties", params={"year": 2026}).json()
    assert {item["item_id"]: item["state"] for item in done_stays["items"]}[delivery["item_id"]] == "done"
