"""The representative's duties against the real embedded PostgreSQL and the real broker (rules.md
section 7): events in (CRM profiles, tier decisions, HR events), HTTP out (work list, completions,
service requests, campaigns, compliance, the daily run)."""

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import date
from typing import Any

from services.assignment.config import AssignmentSettings
from services.assignment.main import create_app
from shared.events.values import Tier
from shared.topics import CUSTOMER_EVENTS
from tests.assignment.platform import T0, Platform, ids
from tests.support import auth, eventually, fresh_id, publish, running, service_settings


@asynccontextmanager
async def duties_platform(
    database_url: str, bootstrap_servers: str, tokens: dict[str, str]
) -> AsyncIterator[Platform]:
    settings = service_settings(
        AssignmentSettings, database_url=database_url, bootstrap_servers=bootstrap_servers, tokens=tokens,
        allow_future_daily_run=True,
    )
    async with running(create_app(settings), port=settings.http_port) as client:
        yield Platform(client, bootstrap_servers, tokens)


async def crm(bootstrap_servers: str, customer_id: str, *, birthday: date | None, branch: str = "GD-SZ") -> None:
    body = {
        "event_id": uuid.uuid4().hex, "event_type": "customer_upserted", "occurred_at": T0.isoformat(),
        "customer": {"customer_id": customer_id, "name": "Li Lei", "birthday": birthday and birthday.isoformat(),
                     "branch": branch},
    }
    group = {"event_id": uuid.uuid4().hex, "event_type": "legacy_vip_imported", "occurred_at": T0.isoformat(),
             "customer_id": customer_id, "tier": "gold", "since": "2014-01-01"}
    await publish(bootstrap_servers, CUSTOMER_EVENTS, [(customer_id, body), (customer_id, group)])


async def items_of(vip: Platform, agent_id: str, *, view: str = "pending", as_of: str = "2027-01-01") -> list[Any]:
    response = await vip.client.get(
        f"/v1/representatives/{agent_id}/work-items", params={"view": view, "as_of": as_of, "limit": 100},
        headers=vip.ops,
    )
    assert response.status_code == 200, response.text
    return list(response.json()["items"])


async def test_a_vips_work_list_through_the_year(
    database_url: str, bootstrap_servers: str, api_tokens: dict[str, str]
) -> None:
    a, b = ids("A", 2)
    customer, stranger = fresh_id("C"), fresh_id("C")
    call_center, representative = auth(api_tokens["call_center"]), auth(api_tokens["representative"])
    async with duties_platform(database_url, bootstrap_servers, api_tokens) as vip:
        await vip.upsert(a)
        await vip.upsert(b)
        await vip.wait_for_agent(b)
        await crm(bootstrap_servers, customer, birthday=date(1970, 12, 20))
        await vip.tier(customer, Tier.GOLD, [(a, "40000"), (b, "10000")])
        await vip.wait_for(customer, a)

        # on becoming VIP (2026-10-08): this year's remaining occasion (the birthday) and the deliveries
        this_year = await eventually(lambda: _pending(vip, a, expect=3), what="the new VIP's first items")
        deliveries = {f"policy P0-{customer} delivered", f"policy P1-{customer} delivered"}
        assert {item["occasion"] for item in this_year} == {"Birthday 2026", *deliveries}

        # the daily run of 2027-01-01 generates the year's holiday items ahead, the lunar dates included
        run = await vip.client.post("/v1/daily-runs", json={"as_of": "2027-01-01"}, headers=vip.ops)
        assert run.status_code == 200, run.text
        assert run.json()["steps"]["holiday_items_generated"] == 6
        rerun = await vip.client.post("/v1/daily-runs", json={"as_of": "2027-01-01"}, headers=vip.ops)
        assert rerun.json()["changed"] == 0
        pending = {item["occasion"]: item for item in await items_of(vip, a)}
        assert pending["Spring Festival 2027"]["due_on"] == "2027-02-06"
        assert pending["Mid-Autumn 2027"]["due_on"] == "2027-09-15"
        assert pending["Birthday 2027"]["due_on"] == "2027-12-20"
        # the 2026 items whose day passed are overdue now
        overdue = await items_of(vip, a, view="overdue")
        assert {item["occasion"] for item in overdue} == {"Birthday 2026", *deliveries}

        delivery = await _recording(vip, overdue, representative=representative, call_center=call_center)
        await _service_requests(vip, customer, stranger, representative=a, call_center=call_center)
        await _moves_compliance_and_cancellation(vip, customer, delivery, a=a, b=b)


async def _recording(
    vip: Platform, overdue: list[Any], *, representative: dict[str, str], call_center: dict[str, str]
) -> dict[str, Any]:
    """SMS where only a visit counts is refused naming the allowed channel; a visit counts, once."""
    # recording: SMS where only a visit counts is refused naming the allowed channel; a visit counts once
    delivery = next(item for item in overdue if item["duty"] == "policy_delivery")
    path = f"/v1/work-items/{delivery['item_id']}/completion"
    by_sms = await vip.client.post(path, json={"done_on": "2026-10-10", "channel": "sms"}, headers=representative)
    assert by_sms.status_code == 422 and by_sms.json()["reason"] == "channel_not_allowed"
    assert "allowed visit" in by_sms.json()["detail"]
    early = await vip.client.post(path, json={"done_on": "2026-10-01", "channel": "visit"}, headers=representative)
    assert early.status_code == 422 and early.json()["reason"] == "not_open_yet"
    done = await vip.client.post(
        path, json={"done_on": "2026-10-12", "channel": "visit", "note": "bound to WeChat"}, headers=representative
    )
    assert done.status_code == 200 and done.json()["state"] == "done" and done.json()["on_time"]
    twice = await vip.client.post(path, json={"done_on": "2026-10-12", "channel": "visit"}, headers=representative)
    assert twice.status_code == 409 and twice.json()["reason"] == "already_done"
    unknown = await vip.client.post(
        "/v1/work-items/999999/completion", json={"done_on": "2026-10-12", "channel": "visit"},
        headers=representative,
    )
    assert unknown.status_code == 404
    wrong_role = await vip.client.post(path, json={"done_on": "2026-10-12", "channel": "visit"}, headers=call_center)
    assert wrong_role.status_code == 403
    return dict(done.json())


async def _service_requests(
    vip: Platform, customer: str, stranger: str, *, representative: str, call_center: dict[str, str]
) -> None:
    """The call center reports a claim; operations announce a campaign."""
    a = representative
    # the call center reports a claim: one help item; the same report again is the same item
    url = f"/v1/customers/{customer}/service-requests"
    claim = await vip.client.post(url, json={"kind": "claim", "reference": "CLM-1"}, headers=call_center)
    assert claim.status_code == 201, claim.text
    assert claim.json()["duty"] == "one_to_one_help" and claim.json()["agent_id"] == a
    again = await vip.client.post(url, json={"kind": "claim", "reference": "CLM-1"}, headers=call_center)
    assert again.status_code == 200 and again.json()["item_id"] == claim.json()["item_id"]
    bad_kind = await vip.client.post(url, json={"kind": "lawsuit", "reference": "X"}, headers=call_center)
    assert bad_kind.status_code == 422
    nobody = await vip.client.post(
        f"/v1/customers/{stranger}/service-requests", json={"kind": "claim", "reference": "CLM-2"},
        headers=call_center,
    )
    assert nobody.status_code == 404 and nobody.json()["reason"] == "unknown_customer"
    as_ops = await vip.client.post(url, json={"kind": "servicing", "reference": "S-1"}, headers=vip.ops)
    assert as_ops.status_code == 403

    # operations announce a campaign: one item per VIP in scope; a malformed one names the field
    campaign = await vip.client.post(
        "/v1/campaigns", json={"duty": "company_news", "title": "Q1 results", "starts_on": "2027-01-05",
                               "scope": {"branch": "GD-SZ"}}, headers=vip.ops,
    )
    assert campaign.status_code == 201, campaign.text
    assert campaign.json()["items"] == 1 and campaign.json()["due_on"] == "2027-01-12"
    malformed = await vip.client.post(
        "/v1/campaigns", json={"duty": "company_news", "starts_on": "2027-01-05"}, headers=vip.ops
    )
    assert malformed.status_code == 422 and "title" in malformed.text


async def _moves_compliance_and_cancellation(
    vip: Platform, customer: str, delivery: dict[str, Any], *, a: str, b: str
) -> None:
    """A departure moves the pending items, compliance counts them, losing VIP cancels them."""
    # a departure moves the pending items to the new representative
    before_move = {item["item_id"] for item in await items_of(vip, a)}
    await vip.depart(a, at=T0.replace(month=11))
    await vip.wait_for(customer, b)
    moved = await eventually(lambda: _pending(vip, b, expect=len(before_move)), what="the items to move to B")
    assert {item["item_id"] for item in moved} == before_move
    assert await items_of(vip, a) == []

    # the compliance view counts them
    compliance = await vip.client.get(f"/v1/customers/{customer}/duties", params={"year": 2026}, headers=vip.ops)
    assert compliance.status_code == 200, compliance.text
    delivered = next(row for row in compliance.json()["duties"] if row["duty"] == "policy_delivery")
    assert delivered == {"duty": "policy_delivery", "required": 2, "items": 2, "done": 1, "on_time": 1,
                         "overdue": 1, "meets": False}
    figures = await vip.client.get("/v1/ops/duties", params={"year": 2026}, headers=vip.ops)
    assert figures.status_code == 200, figures.text
    assert figures.json()["compliance"]["vips"] == 1

    # losing VIP cancels what is still to be done; what was done stays done
    await vip.tier(customer, None, [(b, "100")], at=T0.replace(month=12))
    await eventually(lambda: _pending(vip, b, expect=0), what="the items to be cancelled")
    year_2027 = await vip.client.get(f"/v1/customers/{customer}/duties", params={"year": 2027}, headers=vip.ops)
    assert {item["state"] for item in year_2027.json()["items"]} == {"cancelled"}
    after = await vip.client.get(f"/v1/customers/{customer}/duties", params={"year": 2026}, headers=vip.ops)
    states = {item["occasion"]: item["state"] for item in after.json()["items"]}
    assert states[delivery["occasion"]] == "done" and states["Birthday 2026"] == "cancelled"


async def _pending(vip: Platform, agent_id: str, *, expect: int) -> list[Any] | None:
    found = await items_of(vip, agent_id)
    return found if len(found) == expect else None
