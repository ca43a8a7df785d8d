"""Entitlements' group handlers against the in-memory unit of work: level decisions and account
managers applied once, in revision order, and the level history kept for movements and retention."""

from datetime import timedelta

from services.entitlements import handlers
from shared.ruleset import load_ruleset
from shared.settings import DEFAULT_RULESET_PATH
from tests.builders.group import G0, level_decided, manager_changed
from tests.entitlements.fakes import FakeUnitOfWork

RULESET = load_ruleset(DEFAULT_RULESET_PATH)


async def test_a_level_decision_is_kept_with_its_score_and_coefficients_and_a_change_of_level_is_a_move() -> None:
    uow = FakeUnitOfWork(ruleset=RULESET)

    await handlers.on_group_level_decided(level_decided("C1", revision=1, level="level_3"), uow.typed())
    await handlers.on_group_level_decided(
        level_decided("C1", revision=2, level="level_3", at=G0 + timedelta(days=90)), uow.typed()
    )
    await handlers.on_group_level_decided(
        level_decided("C1", revision=3, level="level_1", score="1.9000", at=G0 + timedelta(days=180)), uow.typed()
    )

    client = uow.group_clients.stored["C1"]
    assert (client.level, str(client.score), client.level_revision) == ("level_1", "1.9000", 3)
    assert str(client.scale) == "1.2" and client.branch == "GD-SZ"
    assert [(previous, level) for _, previous, level, _ in uow.group_clients.moves] == [
        (None, "level_3"), ("level_3", "level_1")
    ]


async def test_stale_level_decisions_and_manager_changes_have_no_effect() -> None:
    uow = FakeUnitOfWork(ruleset=RULESET)
    await handlers.on_group_level_decided(level_decided("C1", revision=2, level="level_2"), uow.typed())
    await handlers.on_account_manager_changed(manager_changed("C1", revision=2, agent_id="S2"), uow.typed())

    await handlers.on_group_level_decided(level_decided("C1", revision=1, level=None), uow.typed())
    await handlers.on_account_manager_changed(manager_changed("C1", revision=1, agent_id="S1"), uow.typed())

    client = uow.group_clients.stored["C1"]
    assert client.level == "level_2" and client.manager is not None and client.manager.agent_id == "S2"
    assert uow.stale_events == 2


async def test_a_manager_may_arrive_before_the_level_and_losing_the_manager_is_kept() -> None:
    uow = FakeUnitOfWork(ruleset=RULESET)

    await handlers.on_account_manager_changed(manager_changed("C1", revision=1, agent_id="S1"), uow.typed())
    await handlers.on_group_level_decided(level_decided("C1", revision=1, level="level_1"), uow.typed())
    await handlers.on_account_manager_changed(manager_changed("C1", revision=2, agent_id=None), uow.typed())

    client = uow.group_clients.stored["C1"]
    assert client.level == "level_1" and client.manager is None and client.manager_revision == 2
