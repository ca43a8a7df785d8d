"""The entitlements service against the real embedded PostgreSQL and the real broker.

Customers reach the service the way they do in production: `TierDecided` and `RepresentativeChanged`
events on their topics. Everything else goes through the public HTTP API.
"""

import asyncio
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from shared.events.internal import Representative, RepresentativeChanged
from shared.events.values import Channel, Tier
from tests.builders.decisions import TODAY, tier_decided
from tests.entitlements.platform import CATALOG_CODES, QUOTAS, Platform, by_code, platform
from tests.support import eventually, fresh_id


async def test_customer_view_follows_tier_decisions_and_representatives_and_ignores_stale_ones(
    database_url: str, bootstrap_servers: str, api_tokens: dict[str, str]
) -> None:
    async with platform(database_url, bootstrap_servers, api_tokens) as p:
        customer = fresh_id("C")
        unknown = await p.client.get(f"/v1/customers/{customer}", headers=p.as_role("call_center"))
        await p.send(
            tier_decided(customer, revision=1, tier=Tier.PLATINUM, points="80000.00", honorary_tier=Tier.PLATINUM),
            RepresentativeChanged(
                event_id=uuid.uuid4().hex,
                occurred_at=datetime.now(UTC),
                correlation_id="c1",
                customer_id=customer,
                revision=1,
                representative=Representative(agent_id="A7", name="Li Hua", channel=Channel.AGENCY),
                reason="highest contribution",
                effective_at=TODAY,
            ),
        )
        await p.customer_at_revision(customer, Tier.PLATINUM)
        stale = tier_decided(customer, revision=1, tier=Tier.GOLD, points="31000.00")
        newer = tier_decided(customer, revision=2, tier=Tier.DIAMOND, points="250000.00")
        await p.send(stale, newer)
        shown = await p.customer_at_revision(customer, Tier.DIAMOND)
        shown = await eventually(lambda: _with_representative(p, customer), what="representative shown")
        no_token = await p.client.get(f"/v1/customers/{customer}")
        wrong_role = await p.client.get(f"/v1/customers/{customer}", headers=p.as_role("ops"))

    assert unknown.status_code == 404
    assert shown == {
        "customer_id": customer,
        "tier": "diamond",
        "honorary": False,
        "standard": "2015",
        "points": "250000.00",
        "vip_since": TODAY.isoformat(),
        "serving_channel": "agency",
        "pending_points": "0.00",
        "pending_from": None,
        "representative": {"agent_id": "A7", "name": "Li Hua", "channel": "agency"},
    }
    assert (no_token.status_code, wrong_role.status_code) == (401, 403)


async def _with_representative(p: Platform, customer: str) -> dict[str, Any] | None:
    body: dict[str, Any] = (await p.client.get(f"/v1/customers/{customer}", headers=p.as_role("call_center"))).json()
    return body if body.get("representative") else None


async def test_a_diamond_customer_sees_every_service_with_full_quotas(
    database_url: str, bootstrap_servers: str, api_tokens: dict[str, str]
) -> None:
    async with platform(database_url, bootstrap_servers, api_tokens) as p:
        customer = await p.vip(Tier.DIAMOND)
        listed = await p.entitlements(customer)

    period_end = (TODAY.replace(year=TODAY.year + 1) - timedelta(days=1)).isoformat()
    assert listed["tier"] == "diamond"
    assert [entry["code"] for entry in listed["entitlements"]] == CATALOG_CODES
    for entry in listed["entitlements"]:
        value_added = entry["category"] == "value_added"
        assert entry["eligible"] is True, entry
        assert (entry["quota"], entry["used"], entry["remaining"]) == (
            QUOTAS.get(entry["code"]),
            0,
            QUOTAS.get(entry["code"]),
        )
        assert (entry["period_start"], entry["period_end"]) == (
            (TODAY.isoformat(), period_end) if value_added else (None, None)
        )
    assert [e["category"] for e in listed["entitlements"]] == ["basic"] * 7 + ["value_added"] * 9


async def test_a_gold_customer_is_refused_the_lounge_and_unknown_ones_get_404(
    database_url: str, bootstrap_servers: str, api_tokens: dict[str, str]
) -> None:
    async with platform(database_url, bootstrap_servers, api_tokens) as p:
        customer = await p.vip(Tier.GOLD, points="31000.00")
        await p.sign_hq_contracts("vip_reading")
        lounge = await p.redeem(customer, "airport_lounge")
        reading = await p.redeem(customer, "vip_reading")
        unknown_code = await p.redeem(customer, "space_flight")
        unknown_customer = await p.redeem(fresh_id("C"), "vip_reading")
        listed = by_code(await p.entitlements(customer))

    assert lounge.status_code == 403
    assert lounge.json()["reason"] == "not_eligible" and "gold" in lounge.json()["detail"]
    assert reading.status_code == 201 and reading.json()["remaining"] == 0
    assert (unknown_code.status_code, unknown_code.json()["reason"]) == (404, "unknown_service")
    assert (unknown_customer.status_code, unknown_customer.json()["reason"]) == (404, "unknown_customer")
    assert (listed["airport_lounge"]["eligible"], listed["vip_reading"]["used"]) == (False, 1)


async def test_the_same_idempotency_key_returns_the_first_answer_and_takes_no_second_unit(
    database_url: str, bootstrap_servers: str, api_tokens: dict[str, str]
) -> None:
    async with platform(database_url, bootstrap_servers, api_tokens) as p:
        customer = await p.vip(Tier.PLATINUM, points="80000.00")
        await p.sign_hq_contracts("airport_lounge", "designated_driver")
        first = await p.redeem(customer, "airport_lounge", key="K-1", note="PEK T3")
        again = await p.redeem(customer, "airport_lounge", key="K-1", note="PEK T3")
        other_request = await p.redeem(customer, "designated_driver", key="K-1")
        second = await p.redeem(customer, "airport_lounge", key="K-2")
        used_up = await p.redeem(customer, "airport_lounge", key="K-3")
        used_up_again = await p.redeem(customer, "airport_lounge", key="K-3")
        lounge = by_code(await p.entitlements(customer))["airport_lounge"]

    assert first.status_code == 201 and again.status_code == 201
    assert again.content == first.content and first.json()["remaining"] == 1
    assert other_request.status_code == 422 and other_request.json()["reason"] == "idempotency_key_reused"
    assert second.status_code == 201 and second.json()["remaining"] == 0
    assert used_up.status_code == 409 and used_up.json()["reason"] == "quota_used_up"
    assert used_up_again.content == used_up.content
    assert (lounge["used"], lounge["remaining"]) == (2, 0)


async def test_fifty_concurrent_redemptions_against_a_quota_of_two_give_exactly_two(
    database_url: str, bootstrap_servers: str, api_tokens: dict[str, str]
) -> None:
    async with platform(database_url, bootstrap_servers, api_tokens) as p:
        customer = await p.vip(Tier.DIAMOND)
        await p.sign_hq_contracts("designated_driver")
        answers = await asyncio.gather(*(p.redeem(customer, "designated_driver") for _ in range(50)))
        driver = by_code(await p.entitlements(customer))["designated_driver"]

    codes = sorted(answer.status_code for answer in answers)
    assert codes == [201, 201] + [409] * 48
    assert sorted(a.json()["remaining"] for a in answers if a.status_code == 201) == [0, 1]
    assert (driver["used"], driver["remaining"]) == (2, 0)


async def test_a_reversal_restores_the_unit_and_keeps_the_record(
    database_url: str, bootstrap_servers: str, api_tokens: dict[str, str]
) -> None:
    async with platform(database_url, bootstrap_servers, api_tokens) as p:
        customer = await p.vip(Tier.DIAMOND)
        await p.sign_hq_contracts("health_checkup")
        taken = (await p.redeem(customer, "health_checkup")).json()
        refused = await p.redeem(customer, "health_checkup")
        reversed_ = await p.reverse(customer, taken["redemption_id"])
        twice = await p.reverse(customer, taken["redemption_id"])
        again = await p.redeem(customer, "health_checkup")
        history = await p.client.get(f"/v1/customers/{customer}/redemptions", headers=p.as_role("call_center"))

    assert taken["remaining"] == 0 and refused.status_code == 409
    assert reversed_.status_code == 200 and reversed_.json()["remaining"] == 1
    assert twice.status_code == 409 and twice.json()["reason"] == "already_reversed"
    assert again.status_code == 201
    records = history.json()["redemptions"]
    assert len(records) == 2
    assert [r["reversal_reason"] for r in records if r["redemption_id"] == taken["redemption_id"]] == ["no-show"]


async def test_an_honorary_upgrade_opens_a_fresh_period_and_a_downgrade_keeps_it(
    database_url: str, bootstrap_servers: str, api_tokens: dict[str, str]
) -> None:
    async with platform(database_url, bootstrap_servers, api_tokens) as p:
        customer = await p.vip(Tier.PLATINUM, points="80000.00")
        await p.sign_hq_contracts("airport_lounge")
        lounges = [await p.redeem(customer, "airport_lounge") for _ in range(2)]
        platinum = by_code(await p.entitlements(customer))
        await p.send(
            tier_decided(
                customer,
                revision=2,
                tier=Tier.DIAMOND,
                computed_tier=Tier.PLATINUM,
                honorary_tier=Tier.DIAMOND,
                points="80000.00",
            )
        )
        honorary = await p.customer_at_revision(customer, Tier.DIAMOND)
        diamond = by_code(await p.entitlements(customer))
        await p.send(tier_decided(customer, revision=3, tier=Tier.GOLD, points="31000.00"))
        await p.customer_at_revision(customer, Tier.GOLD)
        gold = by_code(await p.entitlements(customer))

    assert [lounge.status_code for lounge in lounges] == [201, 201]
    assert (platinum["airport_lounge"]["remaining"], platinum["health_checkup"]["eligible"]) == (0, False)
    assert honorary["honorary"] is True
    assert (diamond["airport_lounge"]["used"], diamond["airport_lounge"]["remaining"]) == (0, 2)
    assert diamond["health_checkup"]["eligible"] is True
    assert gold["health_checkup"]["eligible"] is True and gold["airport_lounge"]["remaining"] == 2
    assert gold["airport_lounge"]["period_end"] == diamond["airport_lounge"]["period_end"]
