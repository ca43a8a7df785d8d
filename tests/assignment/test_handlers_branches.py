"""Issue 17 on assignment's handlers and daily run, against the in-memory unit of work (`fakes.py`):
the legacy measure, the customer's branch scoping the pools, an honorary VIP without policies, and
a departure dated ahead acting only through the daily run of its date."""

from datetime import date, datetime, timedelta

from services.assignment import handlers
from services.assignment.workflows import DAILY_RUN_STEPS
from shared.daily_run import DailyRun
from shared.events.internal import InternalEvent, RepresentativeChanged
from shared.events.values import AgentRole, Standard, Tier
from tests.assignment.fakes import FakeUnitOfWork
from tests.builders.assignment import BANK, T0, agent_departed, agent_upserted, tier_decision

HERE, THERE = "GD-SZ", "GD-GZ"


def representative(published: list[InternalEvent]) -> str | None:
    (change,) = [event for event in published if isinstance(event, RepresentativeChanged)]
    return change.representative.agent_id if change.representative else None


async def hire(uow: FakeUnitOfWork, agent_id: str, **profile: object) -> None:
    await handlers.on_agent_upserted(agent_upserted(agent_id, **profile), uow.typed())  # type: ignore[arg-type]


async def daily_run(uow: FakeUnitOfWork, as_of: date) -> int:
    step = next(step for step in DAILY_RUN_STEPS if step.name == "departures_taken_effect")
    run = DailyRun(as_of=as_of, started_at=datetime.combine(as_of, datetime.min.time()), run_by="test")
    done = await step.apply_chunk(uow.typed(), run=run, after="", limit=100)
    return done.changed


async def test_a_legacy_customer_gets_the_person_on_the_top_standard_premium_policy() -> None:
    uow = FakeUnitOfWork()
    await hire(uow, "A")
    await hire(uow, "B")
    decision = tier_decision(
        "C1", revision=1, tier=Tier.GOLD, standard=Standard.LEGACY, policies=[("A", "60000"), ("B", "20000")],
        premiums=["20000", "60000"],
    )
    published = await handlers.on_tier_decided(decision, uow.typed())
    assert representative(published) == "B"


async def test_the_pool_takes_the_customers_branch_first_then_the_channel_elsewhere() -> None:
    uow = FakeUnitOfWork()
    await hire(uow, "S-THERE", role=AgentRole.CS_SPECIALIST, branch=THERE)
    await hire(uow, "S-HERE", role=AgentRole.BACK_OFFICE, branch=HERE)
    for number in range(3):  # the branch's person, however loaded, comes first
        published = await handlers.on_tier_decided(
            tier_decision(f"C{number}", revision=1, tier=Tier.GOLD, branch=HERE), uow.typed()
        )
        assert representative(published) == "S-HERE"
    await handlers.on_agent_departed(agent_departed("S-HERE", at=T0 + timedelta(days=1)), uow.typed())
    moved = {customer.representative.agent_id for customer in uow.customers.stored.values() if customer.representative}
    assert moved == {"S-THERE"}


async def test_without_tierings_branch_the_top_policys_branch_scopes_the_pool() -> None:
    uow = FakeUnitOfWork()
    await hire(uow, "S-THERE", role=AgentRole.CS_SPECIALIST, branch=THERE)
    await hire(uow, "S-HERE", role=AgentRole.CS_SPECIALIST, branch=HERE)
    await hire(uow, "GONE", branch=THERE)
    await handlers.on_agent_departed(agent_departed("GONE", at=T0 - timedelta(days=1)), uow.typed())
    decision = tier_decision(
        "C1", revision=1, tier=Tier.GOLD, policies=[("GONE", "40000"), (None, "10000")],
        policy_branches=[HERE, THERE],
    )
    assert representative(await handlers.on_tier_decided(decision, uow.typed())) == "S-HERE"
    assert uow.customers.stored["C1"].branch == HERE


async def test_an_honorary_vip_without_policies_gets_the_filing_channels_pool_in_the_filing_branch() -> None:
    uow = FakeUnitOfWork()
    await hire(uow, "AGENCY-HERE", role=AgentRole.CS_SPECIALIST, branch=HERE)
    await hire(uow, "BANK-THERE", role=AgentRole.RENEWAL_STAFF, branch=THERE, channel=BANK)
    await hire(uow, "BANK-HERE", role=AgentRole.RENEWAL_STAFF, branch=HERE, channel=BANK)
    decision = tier_decision("H1", revision=1, tier=Tier.DIAMOND, policies=[], channel=BANK, branch=HERE)
    published = await handlers.on_tier_decided(decision, uow.typed())
    assert representative(published) == "BANK-HERE"
    assert "service pool in the customer's branch GD-SZ" in uow.customers.stored["H1"].reason


async def test_a_departure_dated_ahead_acts_only_with_the_daily_run_of_its_date() -> None:
    uow = FakeUnitOfWork()
    await hire(uow, "A")
    await hire(uow, "S", role=AgentRole.CS_SPECIALIST)
    decision = tier_decision("C1", revision=1, tier=Tier.GOLD, policies=[("A", "40000")])
    await handlers.on_tier_decided(decision, uow.typed())
    leaving = T0.date() + timedelta(days=10)

    assert await handlers.on_agent_departed(agent_departed("A", at=T0, departed_on=leaving), uow.typed()) == []
    assert uow.agents.stored["A"].departs_on == leaving and uow.agents.stored["A"].agent.assignable  # type: ignore[union-attr]
    assert await daily_run(uow, leaving - timedelta(days=1)) == 0
    assert uow.customers.stored["C1"].representative.agent_id == "A"  # type: ignore[union-attr]

    assert await daily_run(uow, leaving) == 1
    assert representative(uow.published) == "S"
    (change,) = uow.published
    assert change.effective_at == leaving and f"left the company on {leaving}" in change.reason  # type: ignore[attr-defined]
    assert uow.agents.stored["A"].departs_on is None and uow.agents.stored["A"].departed_on == leaving
    assert await daily_run(uow, leaving) == 0  # a date run twice changes nothing


async def test_a_departure_dated_ahead_then_one_dated_today_acts_at_once() -> None:
    uow = FakeUnitOfWork()
    await hire(uow, "A")
    await hire(uow, "B")
    await handlers.on_tier_decided(
        tier_decision("C1", revision=1, tier=Tier.GOLD, policies=[("A", "40000"), ("B", "1000")]), uow.typed()
    )
    await handlers.on_agent_departed(
        agent_departed("A", at=T0, departed_on=T0.date() + timedelta(days=30)), uow.typed()
    )
    published = await handlers.on_agent_departed(agent_departed("A", at=T0 + timedelta(days=1)), uow.typed())
    assert representative(published) == "B"
    assert await daily_run(uow, T0.date() + timedelta(days=30)) == 0
