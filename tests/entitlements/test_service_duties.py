"""Separation of duties, branch-scoped tokens, reversal rules and withdrawn grants, through the API
against the real PostgreSQL and broker (issue 12 items 7-8, issue 17 points 2, 6, 7)."""

import asyncio
from datetime import date, timedelta
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import create_async_engine

from shared.events.values import Tier
from tests.builders.decisions import TODAY, tier_decided, with_policies
from tests.entitlements.platform import Platform, by_code, platform
from tests.support import fresh_id

TWO_ROLES = "branch_ops+hq_customer_service"
SHENZHEN_OPS = "branch_ops@GD-SZ"
BEIJING_HQ = "hq_customer_service@BJ-01"


@pytest.fixture
def tokens(api_tokens: dict[str, str]) -> dict[str, str]:
    """One user per role, plus a two-role user and two branch-scoped users (`token=role@BRANCH`)."""
    extra = {grant: f"test-{fresh_id('T').lower()}" for grant in (TWO_ROLES, SHENZHEN_OPS, BEIJING_HQ)}
    return {**api_tokens, **extra}


def featured(code: str, branch: str = "GD-SZ") -> dict[str, Any]:
    return {"code": code, "name": code, "branch": branch, "tiers": ["diamond"], "unit_cost": "50.00"}


async def post(p: Platform, role: str, path: str, body: dict[str, Any]) -> tuple[int, Any]:
    response = await p.client.post(path, json=body, headers=p.as_role(role))
    return response.status_code, response.json()


async def test_of_a_concurrent_approve_and_reject_exactly_one_decides(
    database_url: str, bootstrap_servers: str, tokens: dict[str, str]
) -> None:
    async with platform(database_url, bootstrap_servers, tokens) as p:
        assert (await post(p, "branch_ops", "/v1/featured-services", featured("sz_race")))[0] == 201
        path = "/v1/featured-services/sz_race/decisions"
        answers = await asyncio.gather(
            post(p, "hq_customer_service", path, {"decision": "approve"}),
            post(p, "dev", path, {"decision": "reject"}),
        )
        listed = (await p.client.get("/v1/featured-services", headers=p.as_role("ops"))).json()

    assert sorted(status for status, _ in answers) == [200, 409]
    [winner] = [body for status, body in answers if status == 200]
    [loser] = [body for status, body in answers if status == 409]
    assert loser["reason"] == "already_decided"
    assert [f["state"] for f in listed["featured_services"]] == [winner["state"]]


async def test_a_two_role_token_cannot_approve_its_own_proposal_and_the_database_refuses_it_too(
    database_url: str, bootstrap_servers: str, tokens: dict[str, str]
) -> None:
    async with platform(database_url, bootstrap_servers, tokens) as p:
        assert (await post(p, "hq_customer_service", "/v1/vendors", {"vendor_id": "V-SZ", "name": "SZ"}))[0] == 201
        own_service = await post(p, TWO_ROLES, "/v1/featured-services", featured("sz_own"))
        own_contract = await post(p, TWO_ROLES, "/v1/contracts", {
            "service_code": "road_rescue", "vendor_id": "V-SZ", "unit_cost": "40.00", "branch": "GD-SZ"})
        contract_id = own_contract[1]["contract_id"]
        self_approved_service = await post(p, TWO_ROLES, "/v1/featured-services/sz_own/decisions",
                                           {"decision": "approve"})
        self_approved_contract = await post(p, TWO_ROLES, f"/v1/contracts/{contract_id}/decisions",
                                            {"decision": "approve"})
        by_someone_else = await post(p, "hq_customer_service", f"/v1/contracts/{contract_id}/decisions",
                                     {"decision": "approve"})

    assert own_service[0] == 201 and own_contract[0] == 201
    for status, body in (self_approved_service, self_approved_contract):
        assert (status, body["reason"]) == (403, "separation_of_duties")
    assert by_someone_else[0] == 200 and by_someone_else[1]["state"] == "approved"
    engine = create_async_engine(database_url)
    try:
        with pytest.raises(IntegrityError, match="ck_featured_services_decider_is_not_registrar"):
            async with engine.begin() as connection:
                await connection.execute(text(
                    "UPDATE featured_services SET state = 'approved', decided_by = registered_by WHERE code = 'sz_own'"
                ))
    finally:
        await engine.dispose()


async def test_a_branch_scoped_token_acts_only_for_its_branch(
    database_url: str, bootstrap_servers: str, tokens: dict[str, str]
) -> None:
    async with platform(database_url, bootstrap_servers, tokens) as p:
        elsewhere = await post(p, SHENZHEN_OPS, "/v1/featured-services", featured("bj_walk", branch="BJ-01"))
        at_home = await post(p, SHENZHEN_OPS, "/v1/featured-services", featured("sz_walk"))
        other_branch_decision = await post(p, BEIJING_HQ, "/v1/featured-services/sz_walk/decisions",
                                           {"decision": "approve"})
        hq_decision = await post(p, "hq_customer_service", "/v1/featured-services/sz_walk/decisions",
                                 {"decision": "approve"})

    assert (elsewhere[0], elsewhere[1]["reason"]) == (403, "other_branch")
    assert "GD-SZ" in elsewhere[1]["detail"] and "BJ-01" in elsewhere[1]["detail"]
    assert at_home[0] == 201
    assert (other_branch_decision[0], other_branch_decision[1]["reason"]) == (403, "other_branch")
    assert "BJ-01" in other_branch_decision[1]["detail"]
    assert hq_decision[0] == 200


async def test_a_reversal_needs_a_reason_another_user_and_the_window(
    database_url: str, bootstrap_servers: str, tokens: dict[str, str]
) -> None:
    async with platform(database_url, bootstrap_servers, tokens) as p:
        customer = await p.vip(Tier.DIAMOND)
        await p.sign_hq_contracts("health_checkup", "road_rescue")
        checkup = (await p.redeem(customer, "health_checkup")).json()["redemption_id"]
        rescue = (await p.redeem(customer, "road_rescue")).json()["redemption_id"]
        without_reason = await p.reverse(customer, checkup, reason=None)
        blank_reason = await p.reverse(customer, checkup, reason="  ")
        by_the_redeemer = await p.reverse(customer, checkup, role="call_center")
        engine = create_async_engine(database_url)
        try:
            async with engine.begin() as connection:
                await connection.execute(
                    text("UPDATE redemptions SET redeemed_on = :day WHERE redemption_id = :id"),
                    {"day": TODAY - timedelta(days=31), "id": rescue},
                )
        finally:
            await engine.dispose()
        too_late = await p.reverse(customer, rescue)
        in_time = await p.reverse(customer, checkup, reason="no-show")
        report = await p.client.get(
            "/v1/reports/costs",
            params={"from": (TODAY - timedelta(days=31)).isoformat(), "to": TODAY.isoformat()},
            headers=p.as_role("ops"),
        )

    assert without_reason.status_code == 422
    assert (blank_reason.status_code, blank_reason.json()["reason"]) == (422, "reason_required")
    assert (by_the_redeemer.status_code, by_the_redeemer.json()["reason"]) == (403, "own_redemption")
    assert (too_late.status_code, too_late.json()["reason"]) == (409, "reversal_window_passed")
    assert "30-day reversal window" in too_late.json()["detail"]
    assert in_time.status_code == 200 and in_time.json()["remaining"] == 1
    body = report.json()
    assert body["totals"]["reversed"] == 1 and body["totals"]["reversed_credit"] == "-100.00"
    assert [(r["redemption_id"], r["credit"], r["reason"]) for r in body["reversals"]] == [
        (checkup, "-100.00", "no-show")
    ]


async def test_a_late_cooling_off_cancellation_withdraws_the_period_and_flags_its_redemptions(
    database_url: str, bootstrap_servers: str, tokens: dict[str, str]
) -> None:
    gold_on, upgraded_on, cancelled_on = TODAY - timedelta(days=60), TODAY - timedelta(days=20), TODAY
    customer = fresh_id("C")
    gold = tier_decided(customer, revision=1, tier=Tier.GOLD, effective_at=gold_on, points="40000.00")
    platinum = tier_decided(customer, revision=2, tier=Tier.PLATINUM, effective_at=upgraded_on, points="90000.00")
    cancelled = tier_decided(customer, revision=3, tier=Tier.GOLD, effective_at=cancelled_on, points="40000.00")
    async with platform(database_url, bootstrap_servers, tokens) as p:
        await p.sign_hq_contracts("airport_lounge", "vip_reading")
        await p.send(with_policies(gold, trigger="new_business", counted=("PA",)),
                     with_policies(platinum, trigger="new_business", counted=("PA", "PB")))
        await p.customer_at_revision(customer, Tier.PLATINUM)
        lounge = await p.redeem(customer, "airport_lounge")
        await p.send(with_policies(cancelled, trigger="cooling_off_cancellation", counted=("PA",), excluded=("PB",)))
        await p.customer_at_revision(customer, Tier.GOLD)
        after = by_code(await p.entitlements(customer))
        window = {"from": upgraded_on.isoformat(), "to": TODAY.isoformat()}
        report = (await p.client.get("/v1/reports/costs", params=window, headers=p.as_role("ops"))).json()

    assert lounge.status_code == 201
    assert after["airport_lounge"]["eligible"] is False
    assert (after["vip_reading"]["period_start"], after["vip_reading"]["eligible"]) == (gold_on.isoformat(), True)
    [row] = report["rows"]
    assert (row["service_code"], row["withdrawn_grant"], row["cost"]) == ("airport_lounge", True, "100.00")
    assert report["totals"]["withdrawn_grant"] == {"redemptions": 1, "cost": "100.00"}
    assert date.fromisoformat(after["vip_reading"]["period_end"]) > TODAY
