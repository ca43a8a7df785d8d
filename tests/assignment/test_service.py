"""The assignment service against the real embedded PostgreSQL and the real broker (rules.md section 7).

Each test feeds HR events on `hr.agent-events` and tier decisions on `vip.tier-decisions.v1`, and
checks what operations see over HTTP and what is published on `vip.representatives.v1`.
"""

from datetime import timedelta
from typing import Any

from shared.events.values import Tier
from tests.assignment.platform import T0, ids, platform
from tests.support import auth, eventually, fresh_id


async def test_a_new_vip_gets_the_person_on_the_top_policy_and_the_change_is_published(
    database_url: str, bootstrap_servers: str, api_tokens: dict[str, str]
) -> None:
    a, b = ids("A", 2)
    customer = fresh_id("C")
    async with platform(database_url, bootstrap_servers, api_tokens) as vip:
        await vip.upsert(a)
        await vip.upsert(b)
        await vip.wait_for_agent(b)
        await vip.tier(customer, Tier.GOLD, [(a, "10000"), (b, "25000")])
        found = await vip.wait_for(customer, b)
        published = await vip.published(customer, expect=1)
        load = await vip.wait_for_agent(b)

    assert found["representative"] == {"agent_id": b, "name": f"Name {b}", "channel": "agency"}
    assert found["basis"] == "policy"
    body = published[0]
    assert body["representative"] == {"agent_id": b, "name": f"Name {b}", "channel": "agency"}
    assert body["revision"] == 1 and body["effective_at"] == T0.date().isoformat()
    assert "became VIP (gold)" in body["reason"] and f"P1-{customer}" in body["reason"]
    assert load["load"] == 1 and [row["customer_id"] for row in load["customers"]] == [customer]


async def test_equal_contributions_go_to_the_most_recent_contact_and_a_late_contact_corrects_it(
    database_url: str, bootstrap_servers: str, api_tokens: dict[str, str]
) -> None:
    a, b = ids("A", 2)
    first, second = fresh_id("C"), fresh_id("C")
    async with platform(database_url, bootstrap_servers, api_tokens) as vip:
        await vip.upsert(a)
        await vip.upsert(b)
        await vip.wait_for_agent(b)
        # in time: B contacted more recently than A
        await vip.contact(a, first, at=T0 - timedelta(days=9))
        await vip.contact(b, first, at=T0 - timedelta(days=2))
        await vip.tier(first, Tier.GOLD, [(a, "40000"), (b, "40000")])
        in_time = await vip.wait_for(first, b)
        # late: nobody had contacted when decided (lowest id, A); B's earlier contact arrives after
        await vip.tier(second, Tier.GOLD, [(a, "40000"), (b, "40000")])
        await vip.wait_for(second, a)
        await vip.contact(a, second, at=T0 + timedelta(days=1))  # after the decision: news, no churn
        await vip.contact(b, second, at=T0 - timedelta(days=1))  # before the decision: a late fact
        corrected = await vip.wait_for(second, b, what="the late contact to move the customer to B")
        await vip.contact(a, second, at=T0 + timedelta(days=3))  # news again: stays with B
        await vip.contact(a, second, at=T0 - timedelta(days=5))  # older than B's: stays with B
        await vip.published(second, expect=2)
        history = await vip.history(second)

    assert in_time["basis"] == "recent_contact" and "most recent contact" in in_time["reason"]
    assert corrected["basis"] == "recent_contact" and "arrived late" in corrected["reason"]
    assert [entry["agent_id"] for entry in history] == [b, a]


async def test_pool_fallback_unassigned_vip_and_a_late_agent_profile(
    database_url: str, bootstrap_servers: str, api_tokens: dict[str, str]
) -> None:
    late, busy, idle = fresh_id("X"), fresh_id("S"), fresh_id("S")
    nobody, pooled = fresh_id("C"), fresh_id("C")
    async with platform(database_url, bootstrap_servers, api_tokens) as vip:
        # no profile for the policy's person and no pool yet: visible as unassigned
        await vip.tier(nobody, Tier.PLATINUM, [(late, "80000")])

        async def listed() -> list[dict[str, Any]] | None:
            response = await vip.client.get("/v1/customers/unassigned", headers=vip.ops)
            waiting = [row for row in response.json()["customers"] if row["customer_id"] == nobody]
            return waiting or None

        waiting = await eventually(listed, what="the VIP listed as unassigned")
        # a pool appears: the least loaded member takes the VIP at once
        await vip.upsert(busy, role="renewal_staff")
        await vip.wait_for(nobody, busy)
        await vip.upsert(idle, role="back_office")
        await vip.wait_for_agent(idle)
        await vip.tier(pooled, Tier.GOLD, [(late, "30000")])
        from_pool = await vip.wait_for(pooled, idle)
        # the policy's person's profile arrives late: both customers move to them
        await vip.upsert(late)
        await vip.wait_for(nobody, late)
        moved = await vip.wait_for(pooled, late)
        unassigned = (await vip.client.get("/v1/customers/unassigned", headers=vip.ops)).json()["customers"]
        published = await vip.published(nobody, expect=2)

    assert "kept as unassigned" in waiting[0]["reason"] and waiting[0]["unassigned_since"] == T0.date().isoformat()
    assert from_pool["basis"] == "service_pool" and "least loaded" in from_pool["reason"]
    assert moved["basis"] == "policy" and "arrived after the assignment" in moved["reason"]
    assert unassigned == []
    assert [body["representative"]["agent_id"] for body in published] == [busy, late]


async def test_departure_reassigns_to_the_next_policy_then_the_pool(
    database_url: str, bootstrap_servers: str, api_tokens: dict[str, str]
) -> None:
    a, b, pool = fresh_id("A"), fresh_id("B"), fresh_id("S")
    customer = fresh_id("C")
    async with platform(database_url, bootstrap_servers, api_tokens) as vip:
        for agent_id in (a, b):
            await vip.upsert(agent_id)
        await vip.upsert(pool, role="cs_specialist")
        await vip.wait_for_agent(pool)
        await vip.tier(customer, Tier.DIAMOND, [(a, "200000"), (b, "60000")])
        await vip.wait_for(customer, a)
        await vip.depart(a, at=T0 + timedelta(days=10))
        after_a = await vip.wait_for(customer, b)
        await vip.depart(b, at=T0 + timedelta(days=20))
        after_b = await vip.wait_for(customer, pool)
        departed = await vip.wait_for_agent(a)
        published = await vip.published(customer, expect=3)

    assert "left the company" in after_a["reason"] and after_a["since"] == (T0 + timedelta(days=10)).date().isoformat()
    assert after_b["basis"] == "service_pool"
    assert departed["status"] == "departed" and departed["load"] == 0 and departed["customers"] == []
    assert [body["representative"]["agent_id"] for body in published] == [a, b, pool]


async def test_disqualification_hands_every_customer_to_top_performers_and_bars_the_person(
    database_url: str, bootstrap_servers: str, api_tokens: dict[str, str]
) -> None:
    bad, top1, top2, other = fresh_id("A"), fresh_id("T"), fresh_id("T"), fresh_id("B")
    customers = sorted(fresh_id("C") for _ in range(3))
    later = fresh_id("C")
    async with platform(database_url, bootstrap_servers, api_tokens) as vip:
        await vip.upsert(bad)
        await vip.upsert(other)
        await vip.upsert(top1, top_performer=True)
        await vip.upsert(top2, top_performer=True)
        await vip.wait_for_agent(top2)
        for customer in customers:
            await vip.tier(customer, Tier.GOLD, [(bad, "50000"), (other, "40000")])
            await vip.wait_for(customer, bad)
        await vip.disqualify(bad, at=T0 + timedelta(days=1))
        taken = []
        for customer in customers:

            async def by_top(customer: str = customer) -> dict[str, Any] | None:
                found = await vip.representative_of(customer)
                return found if found is not None and found["agent_id"] in {top1, top2} else None

            taken.append(await eventually(by_top, what=f"{customer} taken over by a top performer"))
        # the disqualified person is never chosen again, even on the top policy of a new VIP
        await vip.upsert(bad, at=T0 + timedelta(days=2))
        await vip.tier(later, Tier.GOLD, [(bad, "90000"), (other, "40000")])
        fresh = await vip.wait_for(later, other)
        barred = await vip.wait_for_agent(bad)

    assert [found["basis"] for found in taken] == ["top_performer_pool"] * 3
    loads = sorted(sum(1 for found in taken if found["agent_id"] == top) for top in (top1, top2))
    assert loads == [1, 2], "the least loaded top performer first"
    assert all("disqualified" in found["reason"] for found in taken)
    assert fresh["basis"] == "policy"
    assert barred["status"] == "disqualified" and barred["load"] == 0


async def test_losing_vip_ends_the_assignment_and_stale_decisions_are_ignored(
    database_url: str, bootstrap_servers: str, api_tokens: dict[str, str]
) -> None:
    a, b = fresh_id("A"), fresh_id("B")
    customer = fresh_id("C")
    async with platform(database_url, bootstrap_servers, api_tokens) as vip:
        await vip.upsert(a)
        await vip.upsert(b)
        await vip.wait_for_agent(b)
        await vip.tier(customer, Tier.GOLD, [(a, "30000"), (b, "20000")])
        await vip.wait_for(customer, a)
        # contributions shift: no churn
        await vip.tier(customer, Tier.PLATINUM, [(a, "30000"), (b, "60000")])
        await vip.tier(customer, None, [(a, "1000"), (b, "2000")])
        ended = await vip.wait_for(customer, None)
        await vip.tier(customer, Tier.GOLD, [(a, "30000")], revision=2)  # stale: ignored
        load = await vip.wait_for_agent(a)
        published_after_loss = await vip.published(customer, expect=2)
        await vip.tier(customer, Tier.GOLD, [(a, "30000"), (b, "40000")])
        await vip.wait_for(customer, b, what="a new assignment after VIP status returns")
        history = await vip.history(customer)

    assert ended["tier"] is None and ended["representative"] is None
    assert load["load"] == 0
    assert published_after_loss[1]["representative"] is None
    assert "no longer VIP" in published_after_loss[1]["reason"]
    assert [entry["agent_id"] for entry in history] == [b, None, a]


async def test_operations_endpoints_need_the_ops_role(
    database_url: str, bootstrap_servers: str, api_tokens: dict[str, str]
) -> None:
    async with platform(database_url, bootstrap_servers, api_tokens) as vip:
        paths = ["/v1/customers/unassigned", "/v1/representatives", "/v1/customers/C1/representative-history"]
        missing = [await vip.client.get(path) for path in paths]
        wrong = [await vip.client.get(path, headers=auth(api_tokens["call_center"])) for path in paths]
        unknown = await vip.client.get("/v1/customers/NOPE/representative-history", headers=vip.ops)
        unknown_agent = await vip.client.get("/v1/representatives/NOPE/customers", headers=vip.ops)

    assert [response.status_code for response in missing] == [401] * 3
    assert [response.status_code for response in wrong] == [403] * 3
    assert unknown.status_code == 404 and unknown_agent.status_code == 404


async def test_a_representative_failing_the_requirements_keeps_customers_and_a_rename_is_republished(
    database_url: str, bootstrap_servers: str, api_tokens: dict[str, str]
) -> None:
    a, b = fresh_id("A"), fresh_id("B")
    customer, newcomer = fresh_id("C"), fresh_id("C")
    async with platform(database_url, bootstrap_servers, api_tokens) as vip:
        await vip.upsert(a)
        await vip.upsert(b)
        await vip.wait_for_agent(b)
        await vip.tier(customer, Tier.GOLD, [(a, "50000"), (b, "40000")])
        await vip.wait_for(customer, a)
        await vip.upsert(a, eligible=False, name="Renamed", at=T0 + timedelta(days=1))
        await vip.upsert(a, eligible=True, name="Too old", at=T0 - timedelta(days=1))  # stale profile

        async def profile_applied() -> bool:
            found = await vip.wait_for_agent(a)
            return found["name"] == "Renamed" and not found["eligible"]

        await eventually(profile_applied, what="the ineligible profile to be applied")
        await vip.tier(newcomer, Tier.GOLD, [(a, "50000"), (b, "40000")])
        await vip.wait_for(newcomer, b, what="no new customers for a person failing the requirements")
        kept = await vip.wait_for(customer, a)
        published = await vip.published(customer, expect=2)

    assert kept["representative"]["name"] == "Renamed"
    assert [body["representative"]["name"] for body in published] == [f"Name {a}", "Renamed"]
    assert [body["revision"] for body in published] == [1, 2]
