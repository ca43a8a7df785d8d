"""Entitlements through the API: branch featured services, vendor contracts, costs, the daily run."""

from datetime import date
from typing import Any

from shared.events.values import Channel, Tier
from tests.builders.decisions import TODAY, tier_decided
from tests.entitlements.platform import Platform, by_code, platform
from tests.support import fresh_id

TEA = {
    "code": "sz_tea_ceremony",
    "name": "Tea ceremony",
    "branch": "GD-SZ",
    "category": "value_added",
    "tiers": ["diamond", "platinum"],
    "yearly_quota": 1,
    "unit_cost": "88.00",
}


async def post(p: Platform, role: str, path: str, body: dict[str, Any]) -> tuple[int, Any]:
    response = await p.client.post(path, json=body, headers=p.as_role(role))
    return response.status_code, response.json()


async def test_a_featured_service_is_offered_only_to_its_branch_vips_after_hq_approval(
    database_url: str, bootstrap_servers: str, api_tokens: dict[str, str]
) -> None:
    async with platform(database_url, bootstrap_servers, api_tokens) as p:
        shenzhen = await p.vip(Tier.DIAMOND, branch="GD-SZ")
        beijing = await p.vip(Tier.DIAMOND, branch="BJ-01")
        registered = await post(p, "branch_ops", "/v1/featured-services", TEA)
        before_approval = await p.entitlements(shenzhen)
        by_branch_itself = await post(
            p, "branch_ops", "/v1/featured-services/sz_tea_ceremony/decisions", {"decision": "approve"}
        )
        approved = await post(
            p,
            "hq_customer_service",
            "/v1/featured-services/sz_tea_ceremony/decisions",
            {"decision": "approve", "comment": "registered with HQ"},
        )
        in_branch = await p.entitlements(shenzhen)
        elsewhere = await p.entitlements(beijing)
        refused_elsewhere = await p.redeem(beijing, "sz_tea_ceremony")
        taken = await p.redeem(shenzhen, "sz_tea_ceremony")
        report = await p.client.get(
            "/v1/reports/costs", params={"from": TODAY.isoformat(), "to": TODAY.isoformat()}, headers=p.as_role("ops")
        )

    assert registered[0] == 201 and registered[1]["state"] == "pending"
    assert len(before_approval["entitlements"]) == 16
    assert by_branch_itself[0] == 403
    assert approved == (200, {**TEA, "vendor_id": None, "state": "approved"})
    assert [e["code"] for e in in_branch["entitlements"]][16:] == ["sz_tea_ceremony"]
    assert by_code(in_branch)["sz_tea_ceremony"] == {
        "code": "sz_tea_ceremony",
        "name": "Tea ceremony",
        "category": "value_added",
        "eligible": True,
        "quota": 1,
        "used": 0,
        "remaining": 1,
        "period_start": by_code(in_branch)["vip_reading"]["period_start"],
        "period_end": by_code(in_branch)["vip_reading"]["period_end"],
    }
    assert "sz_tea_ceremony" not in by_code(elsewhere) and len(elsewhere["entitlements"]) == 16
    assert refused_elsewhere.status_code == 404 and refused_elsewhere.json()["reason"] == "unknown_service"
    assert taken.status_code == 201 and taken.json()["remaining"] == 0
    assert report.json()["by_bearer"] == [
        {"bearer": "GD-SZ", "redemptions": 1, "cost": "88.00", "bearer_kind": "branch"}
    ]


async def test_contracts_follow_hq_reach_cap_and_approval_and_costs_are_reported(
    database_url: str, bootstrap_servers: str, api_tokens: dict[str, str]
) -> None:
    async with platform(database_url, bootstrap_servers, api_tokens) as p:
        shenzhen = await p.vip(Tier.DIAMOND, branch="GD-SZ", channel=Channel.BANCASSURANCE)
        beijing = await p.vip(Tier.DIAMOND, branch="BJ-01")
        for vendor in ("V-LOUNGE", "V-SZ"):
            assert (await post(p, "hq_customer_service", "/v1/vendors", {"vendor_id": vendor, "name": vendor}))[
                0
            ] == 201
        hq_body = {"service_code": "airport_lounge", "vendor_id": "V-LOUNGE", "unit_cost": "300.00", "reach": ["BJ-01"]}
        hq_by_branch = await post(p, "branch_ops", "/v1/contracts", hq_body)
        hq = await post(p, "hq_customer_service", "/v1/contracts", hq_body)
        branch_body = {"service_code": "airport_lounge", "vendor_id": "V-SZ", "unit_cost": "250.00", "branch": "GD-SZ"}
        where_hq_reaches = await post(p, "branch_ops", "/v1/contracts", {**branch_body, "branch": "BJ-01"})
        too_dear = await post(p, "branch_ops", "/v1/contracts", {**branch_body, "unit_cost": "300.01"})
        proposed = await post(p, "branch_ops", "/v1/contracts", branch_body)
        before_approval = await p.redeem(shenzhen, "airport_lounge", vendor_id="V-SZ")
        decided = await post(
            p, "hq_customer_service", f"/v1/contracts/{proposed[1]['contract_id']}/decisions", {"decision": "approve"}
        )
        with_branch_vendor = await p.redeem(shenzhen, "airport_lounge", vendor_id="V-SZ", note="SZX")
        with_hq_vendor = await p.redeem(beijing, "airport_lounge")
        no_contract = await p.redeem(beijing, "designated_driver")
        basic_in_house = await p.redeem(beijing, "green_channel")
        reversed_one = await p.redeem(beijing, "airport_lounge")
        reversal = await p.reverse(beijing, reversed_one.json()["redemption_id"], reason="error")
        window = {"from": TODAY.isoformat(), "to": TODAY.isoformat()}
        report = await p.client.get("/v1/reports/costs", params=window, headers=p.as_role("ops"))
        not_ops = await p.client.get("/v1/reports/costs", params=window, headers=p.as_role("call_center"))
        history = await p.client.get(f"/v1/customers/{shenzhen}/redemptions", headers=p.as_role("call_center"))

    assert hq_by_branch[0] == 403 and hq[0] == 201 and hq[1]["state"] == "approved"
    assert where_hq_reaches[0] == 409 and "already reaches" in where_hq_reaches[1]["detail"]
    assert too_dear[0] == 409 and "exceeds the HQ unit cost 300.00" in too_dear[1]["detail"]
    assert proposed[0] == 201 and proposed[1]["state"] == "pending"
    assert before_approval.status_code == 422 and before_approval.json()["reason"] == "vendor_not_usable"
    assert decided[0] == 200 and decided[1]["state"] == "approved"
    assert [r.status_code for r in (with_branch_vendor, with_hq_vendor, basic_in_house)] == [201, 201, 201]
    assert (no_contract.status_code, no_contract.json()["reason"]) == (409, "no_contract")
    assert "designated_driver" in no_contract.json()["detail"] and "BJ-01" in no_contract.json()["detail"]
    assert reversal.status_code == 200
    assert not_ops.status_code == 403
    body = report.json()
    assert body["totals"] == {
        "redemptions": 3,
        "reversed": 1,
        "cost": "550.00",
        "reversed_credit": "-300.00",
        "withdrawn_grant": {"redemptions": 0, "cost": "0.00"},
    }
    assert body["by_channel"] == [
        {"channel": "agency", "redemptions": 2, "cost": "300.00"},
        {"channel": "bancassurance", "redemptions": 1, "cost": "250.00"},
    ]
    assert body["by_branch"] == [
        {"branch": "BJ-01", "redemptions": 2, "cost": "300.00"},
        {"branch": "GD-SZ", "redemptions": 1, "cost": "250.00"},
    ]
    assert body["by_vendor"] == [
        {"vendor_id": "V-LOUNGE", "redemptions": 1, "cost": "300.00"},
        {"vendor_id": "V-SZ", "redemptions": 1, "cost": "250.00"},
        {"vendor_id": None, "redemptions": 1, "cost": "0.00"},
    ]
    assert body["by_service"] == [
        {"service_code": "airport_lounge", "redemptions": 2, "cost": "550.00"},
        {"service_code": "green_channel", "redemptions": 1, "cost": "0.00"},
    ]
    assert body["by_bearer"] == [
        {"bearer": "hq_customer_service", "redemptions": 1, "cost": "0.00", "bearer_kind": "hq"},
        {"bearer": "agency", "redemptions": 1, "cost": "300.00", "bearer_kind": "channel"},
        {"bearer": "bancassurance", "redemptions": 1, "cost": "250.00", "bearer_kind": "channel"},
    ]
    [credited] = body["reversals"]
    assert (credited["redemption_id"], credited["credit"], credited["reason"]) == (
        reversed_one.json()["redemption_id"],
        "-300.00",
        "error",
    )
    [record] = history.json()["redemptions"]
    assert (record["vendor_id"], record["unit_cost"], record["borne_by"]) == (
        "V-SZ",
        "250.00",
        {"kind": "channel", "name": "bancassurance"},
    )


def without_steps(answer: tuple[int, Any]) -> tuple[int, Any]:
    """The daily run's answer without the per-step counts the shared endpoint adds."""
    status, body = answer
    return status, {key: value for key, value in body.items() if key != "steps"}


def periods_of(listed: dict[str, Any]) -> tuple[str | None, str | None, bool, bool]:
    entries = by_code(listed)
    return (
        entries["vip_reading"]["period_start"],
        entries["vip_reading"]["period_end"],
        entries["airport_lounge"]["eligible"],
        entries["green_channel"]["eligible"],
    )


async def test_the_daily_run_rolls_periods_over_only_for_customers_vip_that_day(
    database_url: str, bootstrap_servers: str, api_tokens: dict[str, str]
) -> None:
    start, lost_on, downgraded_on, run_day = date(2025, 1, 10), date(2025, 6, 1), date(2025, 3, 1), date(2026, 1, 10)
    async with platform(database_url, bootstrap_servers, api_tokens) as p:
        stays_gold, loses_vip, downgraded = fresh_id("C"), fresh_id("C"), fresh_id("C")
        await p.send(
            tier_decided(stays_gold, revision=1, tier=Tier.GOLD, effective_at=start),
            tier_decided(loses_vip, revision=1, tier=Tier.DIAMOND, effective_at=start),
            tier_decided(loses_vip, revision=2, tier=None, effective_at=lost_on),
            tier_decided(downgraded, revision=1, tier=Tier.PLATINUM, effective_at=start),
            tier_decided(downgraded, revision=2, tier=Tier.GOLD, effective_at=downgraded_on),
        )
        for customer, tier in ((stays_gold, Tier.GOLD), (loses_vip, None), (downgraded, Tier.GOLD)):
            await p.customer_at_revision(customer, tier)
        lost_before_end = await p.entitlements(loses_vip, as_of="2025-12-31")
        downgraded_before_end = await p.entitlements(downgraded, as_of="2025-12-31")
        refused = await post(p, "call_center", "/v1/daily-runs", {"as_of": run_day.isoformat()})
        first_run = await post(p, "ops", "/v1/daily-runs", {"as_of": run_day.isoformat()})
        second_run = await post(p, "admin", "/v1/daily-runs", {"as_of": run_day.isoformat()})
        after = {c: await p.entitlements(c, as_of=run_day.isoformat()) for c in (stays_gold, loses_vip, downgraded)}

    assert periods_of(lost_before_end) == ("2025-01-10", "2026-01-09", True, False)
    assert periods_of(downgraded_before_end) == ("2025-01-10", "2026-01-09", True, True)
    assert refused[0] == 403
    assert without_steps(first_run) == (200, {"as_of": "2026-01-10", "changed": 3})
    assert without_steps(second_run) == (200, {"as_of": "2026-01-10", "changed": 0})
    assert first_run[1]["steps"] == {"value_added_period_roll_over": 3}
    assert periods_of(after[stays_gold]) == ("2026-01-10", "2027-01-09", False, True)
    assert periods_of(after[downgraded]) == ("2026-01-10", "2027-01-09", False, True)
    assert by_code(after[downgraded])["vip_reading"]["eligible"] is True
    assert periods_of(after[loses_vip]) == (None, None, False, False)
