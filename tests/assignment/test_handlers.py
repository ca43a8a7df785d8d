"""Assignment's handlers against the in-memory unit of work (`fakes.py`): what each event does to the
representative, the loads, the history and what is published. No database."""

from datetime import timedelta

from services.assignment import handlers
from shared.events.internal import InternalEvent, RepresentativeChanged
from shared.events.values import AgentRole, Tier
from tests.assignment.fakes import FakeUnitOfWork
from tests.builders.assignment import (
    T0,
    agent_departed,
    agent_disqualified,
    agent_upserted,
    customer_contacted,
    tier_decision,
)


def changes(published: list[InternalEvent]) -> list[RepresentativeChanged]:
    assert all(isinstance(event, RepresentativeChanged) for event in published)
    return [event for event in published if isinstance(event, RepresentativeChanged)]


def representative(published: list[InternalEvent]) -> str | None:
    (change,) = changes(published)
    return change.representative.agent_id if change.representative else None


async def with_agents(uow: FakeUnitOfWork, *agent_ids: str, role: AgentRole = AgentRole.AGENT) -> None:
    for agent_id in agent_ids:
        await handlers.on_agent_upserted(agent_upserted(agent_id, role=role), uow.typed())


async def test_a_new_vip_gets_the_person_on_the_top_policy_and_it_is_published() -> None:
    uow = FakeUnitOfWork()
    await with_agents(uow, "A", "B")

    published = await handlers.on_tier_decided(
        tier_decision("C1", revision=1, tier=Tier.GOLD, policies=[("A", "10000"), ("B", "25000")]), uow.typed()
    )

    (change,) = changes(published)
    assert change.representative is not None and change.representative.agent_id == "B"
    assert change.revision == 1 and change.effective_at == T0.date()
    assert "became VIP (gold)" in change.reason and "P2-C1" in change.reason
    assert uow.agents.stored["B"].load == 1
    assert [(entry.revision, entry.agent_id) for entry in uow.history.entries] == [(1, "B")]


async def test_a_decision_not_newer_than_the_last_applied_is_stale_and_changes_nothing() -> None:
    uow = FakeUnitOfWork()
    await with_agents(uow, "A", "B")
    await handlers.on_tier_decided(tier_decision("C1", revision=2, tier=Tier.GOLD, policies=[("A", "1")]), uow.typed())

    published = await handlers.on_tier_decided(
        tier_decision("C1", revision=2, tier=None, policies=[("B", "1")]), uow.typed()
    )

    assert published == []
    assert uow.stale_events == 1
    customer = uow.customers.stored["C1"]
    assert customer.tier is Tier.GOLD and customer.representative is not None
    assert customer.representative.agent_id == "A"


async def test_losing_vip_status_ends_the_assignment_and_frees_the_load() -> None:
    uow = FakeUnitOfWork()
    await with_agents(uow, "A")
    await handlers.on_tier_decided(tier_decision("C1", revision=1, tier=Tier.GOLD, policies=[("A", "1")]), uow.typed())

    published = await handlers.on_tier_decided(
        tier_decision("C1", revision=2, tier=None, policies=[("A", "1")]), uow.typed()
    )

    assert representative(published) is None
    assert "no longer VIP" in changes(published)[0].reason
    assert uow.agents.stored["A"].load == 0


async def test_a_departure_hands_the_customer_to_the_next_policy_then_the_pool() -> None:
    uow = FakeUnitOfWork()
    await with_agents(uow, "A", "B")
    await with_agents(uow, "S", role=AgentRole.CS_SPECIALIST)
    decision = tier_decision("C1", revision=1, tier=Tier.DIAMOND, policies=[("A", "200000"), ("B", "60000")])
    await handlers.on_tier_decided(decision, uow.typed())

    after_a = await handlers.on_agent_departed(agent_departed("A", at=T0 + timedelta(days=10)), uow.typed())
    after_b = await handlers.on_agent_departed(agent_departed("B", at=T0 + timedelta(days=20)), uow.typed())
    again = await handlers.on_agent_departed(agent_departed("B", at=T0 + timedelta(days=21)), uow.typed())

    assert representative(after_a) == "B" and "left the company" in changes(after_a)[0].reason
    assert representative(after_b) == "S"
    assert again == []
    assert [uow.agents.stored[each].load for each in ("A", "B", "S")] == [0, 0, 1]


async def test_disqualification_goes_to_a_top_performer_and_bars_the_person_for_good() -> None:
    uow = FakeUnitOfWork()
    await with_agents(uow, "BAD", "OTHER")
    await handlers.on_agent_upserted(agent_upserted("TOP", top=True), uow.typed())
    await handlers.on_tier_decided(
        tier_decision("C1", revision=1, tier=Tier.GOLD, policies=[("BAD", "50000"), ("OTHER", "40000")]), uow.typed()
    )

    taken = await handlers.on_agent_disqualified(agent_disqualified("BAD", at=T0 + timedelta(days=1)), uow.typed())
    await handlers.on_agent_upserted(agent_upserted("BAD", at=T0 + timedelta(days=2)), uow.typed())
    later = await handlers.on_tier_decided(
        tier_decision("C2", revision=1, tier=Tier.GOLD, policies=[("BAD", "90000"), ("OTHER", "40000")]), uow.typed()
    )

    assert representative(taken) == "TOP"
    assert uow.customers.stored["C1"].representative is not None
    assert uow.customers.stored["C1"].representative.basis == "top_performer_pool"
    assert representative(later) == "OTHER"
    stored = uow.agents.stored["BAD"]
    assert stored.agent is not None and stored.agent.disqualified and stored.load == 0


async def test_a_late_first_profile_moves_the_customer_from_the_pool_to_the_policy_person() -> None:
    uow = FakeUnitOfWork()
    await with_agents(uow, "S", role=AgentRole.BACK_OFFICE)
    pooled = await handlers.on_tier_decided(
        tier_decision("C1", revision=1, tier=Tier.GOLD, policies=[("LATE", "30000")]), uow.typed()
    )

    moved = await handlers.on_agent_upserted(agent_upserted("LATE", at=T0 + timedelta(days=1)), uow.typed())

    assert representative(pooled) == "S"
    assert representative(moved) == "LATE" and "arrived after the assignment" in changes(moved)[0].reason
    assert [uow.agents.stored[each].load for each in ("S", "LATE")] == [0, 1]


async def test_a_late_contact_before_the_decision_settles_a_tie_and_a_later_one_is_news() -> None:
    uow = FakeUnitOfWork()
    await with_agents(uow, "A", "B")
    tied = await handlers.on_tier_decided(
        tier_decision("C1", revision=1, tier=Tier.GOLD, policies=[("A", "40000"), ("B", "40000")]), uow.typed()
    )

    news = await handlers.on_customer_contacted(
        customer_contacted("A", "C1", contacted_at=T0 + timedelta(days=1)), uow.typed()
    )
    late = await handlers.on_customer_contacted(
        customer_contacted("B", "C1", contacted_at=T0 - timedelta(days=1)), uow.typed()
    )

    assert representative(tied) == "A", "nobody had contacted: the lowest agent id"
    assert news == []
    assert representative(late) == "B" and "arrived late" in changes(late)[0].reason


async def test_a_rename_of_the_representative_is_republished_with_the_next_revision() -> None:
    uow = FakeUnitOfWork()
    await with_agents(uow, "A")
    await handlers.on_tier_decided(tier_decision("C1", revision=1, tier=Tier.GOLD, policies=[("A", "1")]), uow.typed())

    renamed = await handlers.on_agent_upserted(
        agent_upserted("A", at=T0 + timedelta(days=1), name="Renamed"), uow.typed()
    )
    stale = await handlers.on_agent_upserted(agent_upserted("A", at=T0, name="Too old"), uow.typed())

    (change,) = changes(renamed)
    assert change.representative is not None and change.representative.name == "Renamed"
    assert change.revision == 2
    assert stale == [] and uow.stale_events == 1
