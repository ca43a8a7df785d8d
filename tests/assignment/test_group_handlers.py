"""Assignment's group-program handler and the HR hooks against the in-memory unit of work: what a
level decision, a departure or a disqualification does to a client's account manager."""

from datetime import timedelta

from services.assignment import handlers
from shared.events.group import AccountManagerChanged
from shared.events.values import AgentRole
from tests.assignment.fakes import FakeUnitOfWork
from tests.builders.assignment import agent_departed, agent_disqualified, agent_upserted
from tests.builders.group import G0, group_staff_upserted, level_decided


def managers(published: object) -> list[str | None]:
    assert isinstance(published, list)
    return [
        event.manager.agent_id if event.manager else None
        for event in published
        if isinstance(event, AccountManagerChanged)
    ]


async def decide(uow: FakeUnitOfWork, client_id: str, *, revision: int, level: str | None) -> list[object]:
    decision = level_decided(client_id, revision=revision, level=level)
    return list(await handlers.on_group_level_decided(decision, uow.typed()))


async def staffed(uow: FakeUnitOfWork, *people: tuple[str, str]) -> None:
    for agent_id, branch in people:
        await handlers.on_agent_upserted(group_staff_upserted(agent_id, branch=branch), uow.typed())


async def test_a_client_becoming_vip_gets_the_least_loaded_staff_of_its_branch_and_it_is_published() -> None:
    uow = FakeUnitOfWork()
    await staffed(uow, ("S1", "GD-SZ"), ("S2", "GD-SZ"), ("G1", "GD-GZ"))
    await decide(uow, "C0", revision=1, level="level_2")

    published = await decide(uow, "C1", revision=1, level="level_1")

    assert managers(published) == ["S2"]
    (change,) = published
    assert isinstance(change, AccountManagerChanged)
    assert change.revision == 1 and change.client_id == "C1" and change.manager is not None
    assert change.manager.branch == "GD-SZ" and "became VIP (level_1)" in change.reason


async def test_other_branches_when_the_clients_branch_has_no_service_staff() -> None:
    uow = FakeUnitOfWork()
    await staffed(uow, ("G1", "GD-GZ"))
    await handlers.on_agent_upserted(agent_upserted("SALES", channel=agent_upserted("x").agent.channel), uow.typed())

    published = await decide(uow, "C1", revision=1, level="level_3")

    assert managers(published) == ["G1"]


async def test_a_manager_stays_while_the_client_stays_vip_and_leaves_when_it_stops() -> None:
    uow = FakeUnitOfWork()
    await staffed(uow, ("S1", "GD-SZ"))
    await decide(uow, "C1", revision=1, level="level_3")
    await staffed(uow, ("S0", "GD-SZ"))

    assert await decide(uow, "C1", revision=2, level="level_1") == []
    ended = await decide(uow, "C1", revision=3, level=None)

    assert managers(ended) == [None]
    assert isinstance(ended[0], AccountManagerChanged) and "no longer VIP" in ended[0].reason
    assert uow.group_clients.stored["C1"].manager is None


async def test_a_stale_level_decision_changes_nothing() -> None:
    uow = FakeUnitOfWork()
    await staffed(uow, ("S1", "GD-SZ"))
    await decide(uow, "C1", revision=2, level="level_3")

    assert await decide(uow, "C1", revision=2, level=None) == []
    assert uow.stale_events == 1 and uow.group_clients.stored["C1"].manager is not None


async def test_a_vip_client_nobody_can_serve_waits_and_is_filled_when_staff_arrives() -> None:
    uow = FakeUnitOfWork()

    assert await decide(uow, "C1", revision=1, level="level_2") == []
    assert uow.group_clients.stored["C1"].unassigned_since == G0.date()

    published = await handlers.on_agent_upserted(group_staff_upserted("S1"), uow.typed())

    assert managers(published) == ["S1"]


async def test_a_departure_hands_the_clients_to_the_next_least_loaded_staff() -> None:
    uow = FakeUnitOfWork()
    await staffed(uow, ("S1", "GD-SZ"))
    await decide(uow, "C1", revision=1, level="level_2")
    await staffed(uow, ("S2", "GD-SZ"), ("G1", "GD-GZ"))

    published = await handlers.on_agent_departed(agent_departed("S1", at=G0 + timedelta(days=3)), uow.typed())

    assert managers(published) == ["S2"]
    assert "left the company" in published[0].reason


async def test_a_disqualification_hands_the_clients_to_the_group_channels_top_performers() -> None:
    uow = FakeUnitOfWork()
    await staffed(uow, ("S1", "GD-SZ"))
    await decide(uow, "C1", revision=1, level="level_1")
    await staffed(uow, ("S2", "GD-SZ"))
    await handlers.on_agent_upserted(
        group_staff_upserted("TOP", branch="GD-GZ", role=AgentRole.AGENT, top=True), uow.typed()
    )

    published = await handlers.on_agent_disqualified(agent_disqualified("S1", at=G0 + timedelta(days=3)), uow.typed())

    assert managers(published) == ["TOP"]
