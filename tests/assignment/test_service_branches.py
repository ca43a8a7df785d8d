"""Issue 17 on the assignment service against the real embedded PostgreSQL and the real broker: the
legacy measure, pools by the customer's branch, an honorary VIP without policies, and a departure
dated ahead acting through `POST /v1/daily-runs` of its date. Each test takes a branch of its own, so
the pool people other tests leave in the database never come first."""

from datetime import timedelta

from shared.events.values import Channel, Standard, Tier
from tests.assignment.platform import T0, platform
from tests.support import eventually, fresh_id


async def test_a_legacy_customer_is_represented_by_the_legacy_measure(
    database_url: str, bootstrap_servers: str, api_tokens: dict[str, str]
) -> None:
    by_points, by_premium, customer = fresh_id("A"), fresh_id("B"), fresh_id("C")
    async with platform(database_url, bootstrap_servers, api_tokens) as vip:
        await vip.upsert(by_points)
        await vip.upsert(by_premium)
        await vip.wait_for_agent(by_premium)
        await vip.tier(
            customer, Tier.GOLD, [(by_points, "60000"), (by_premium, "20000")], premiums=["20000", "60000"],
            standard=Standard.LEGACY,
        )
        found = await vip.wait_for(customer, by_premium)
    assert found["basis"] == "policy" and f"P1-{customer} (60000.00)" in found["reason"]


async def test_the_pool_takes_the_customers_branch_first_and_an_honorary_vip_without_policies_is_served(
    database_url: str, bootstrap_servers: str, api_tokens: dict[str, str]
) -> None:
    here, there = fresh_id("BR"), fresh_id("BR")
    idle_elsewhere, busy_here = fresh_id("S"), fresh_id("S")
    first, second, honorary = fresh_id("C"), fresh_id("C"), fresh_id("H")
    async with platform(database_url, bootstrap_servers, api_tokens) as vip:
        await vip.upsert(idle_elsewhere, role="cs_specialist", channel="telesales", branch=there)
        await vip.upsert(busy_here, role="back_office", channel="telesales", branch=here)
        await vip.wait_for_agent(busy_here)
        await vip.tier(first, Tier.GOLD, channel=Channel.TELESALES, branch=here)
        await vip.wait_for(first, busy_here)
        await vip.tier(second, Tier.GOLD, channel=Channel.TELESALES, branch=here)
        again = await vip.wait_for(second, busy_here)
        await vip.tier(honorary, Tier.DIAMOND, channel=Channel.TELESALES, branch=there)
        served = await vip.wait_for(honorary, idle_elsewhere)
    assert again["basis"] == "service_pool" and f"in the customer's branch {here}" in again["reason"]
    assert served["basis"] == "service_pool"


async def test_a_departure_dated_ahead_acts_with_the_daily_run_of_its_date(
    database_url: str, bootstrap_servers: str, api_tokens: dict[str, str]
) -> None:
    leaving, successor, customer = fresh_id("A"), fresh_id("B"), fresh_id("C")
    departs_on = T0.date() + timedelta(days=12)
    async with platform(database_url, bootstrap_servers, api_tokens) as vip:
        await vip.upsert(leaving)
        await vip.upsert(successor)
        await vip.wait_for_agent(successor)
        await vip.tier(customer, Tier.PLATINUM, [(leaving, "90000"), (successor, "10000")])
        await vip.wait_for(customer, leaving)
        await vip.depart(leaving, at=T0 + timedelta(days=1), departed_on=departs_on)

        async def announced() -> dict[str, object] | None:
            person = await vip.wait_for_agent(leaving)
            return person if person["departs_on"] == departs_on.isoformat() else None

        person = await eventually(announced, what="the departure recorded ahead")
        before = await vip.daily_run(departs_on - timedelta(days=1))
        still = await vip.representative_of(customer)
        on_the_day = await vip.daily_run(departs_on)
        after = await vip.wait_for(customer, successor)
        twice = await vip.daily_run(departs_on)
        gone = await vip.wait_for_agent(leaving)
    assert person["status"] == "active" and person["load"] == 1
    assert before["steps"]["departures_taken_effect"] == 0
    assert still is not None and still["agent_id"] == leaving
    assert on_the_day["steps"]["departures_taken_effect"] == 1
    assert after["since"] == departs_on.isoformat() and "left the company" in after["reason"]
    assert twice["changed"] == 0
    assert gone["status"] == "departed" and gone["departed_on"] == departs_on.isoformat() and gone["load"] == 0
