"""Tiering's group handlers and evaluation against the in-memory unit of work (`fakes.py`): what a new
book, a lapse, feedback and an evaluation publish. `test_service_group.py` runs them on PostgreSQL."""

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from services.tiering.handlers import on_group_client_scored, on_group_feedback_reported
from services.tiering.workflows.group_levels import evaluate_on_demand
from shared.events.group import GROUP_CLIENT_SCORED_ADAPTER, GROUP_FEEDBACK_REPORTED_ADAPTER
from shared.ruleset import load_ruleset
from shared.settings import DEFAULT_RULESET_PATH
from tests.builders.group_clients import group_client_scored, group_feedback_reported
from tests.tiering.fakes import FakeUnitOfWork

RULESET = load_ruleset(DEFAULT_RULESET_PATH)
AT = datetime(2026, 12, 2, tzinfo=UTC)


async def scored(uow: FakeUnitOfWork, **fields: Any) -> list[Any]:
    event = GROUP_CLIENT_SCORED_ADAPTER.validate_python(group_client_scored(**fields))
    return list(await on_group_client_scored(event, uow.as_tiering()))


async def test_a_new_client_is_published_once_regular_then_nothing_moves_until_evaluated() -> None:
    uow = FakeUnitOfWork(ruleset=RULESET)
    [first] = await scored(uow, client_id="K1", annual_standard_premium="200000.00")
    assert (first.level, first.branch, first.revision, first.evaluated_on) == (None, "GD-SZ", 1, None)
    assert await scored(uow, client_id="K1", revision=2, annual_standard_premium="9000000.00") == []
    assert await scored(uow, client_id="K1", revision=2, annual_standard_premium="1.00") == [], "stale"
    assert uow.stale_events == 1
    assert uow.group_clients.stored["K1"].annual_standard_premium == Decimal("9000000.00")


async def test_an_evaluation_sets_the_level_and_a_lapse_ends_it_at_once() -> None:
    uow = FakeUnitOfWork(ruleset=RULESET)
    await scored(uow, client_id="K1", annual_standard_premium="200000.00")
    client, evaluation = await evaluate_on_demand(uow.as_tiering(), client_id="K1", as_of=date(2026, 12, 1), at=AT)
    assert (evaluation.level, evaluation.score, client.level) == ("level_3", Decimal("1.1000"), "level_3")
    [(_, trigger)] = uow.group_clients.evaluations
    assert trigger == "on_demand"
    [decided] = uow.published
    assert (decided.level, decided.revision, decided.trigger) == ("level_3", 2, "on_demand")

    [lapsed] = await scored(uow, client_id="K1", revision=2, in_force_policies=0, annual_standard_premium="0.00")
    assert (lapsed.level, lapsed.evaluated_level, lapsed.revision) == (None, "level_3", 3)


async def test_feedback_is_kept_for_the_next_evaluation_and_publishes_nothing() -> None:
    uow = FakeUnitOfWork(ruleset=RULESET)
    await scored(uow, client_id="K1", annual_standard_premium="200000.00")
    feedback = GROUP_FEEDBACK_REPORTED_ADAPTER.validate_python(
        group_feedback_reported(client_id="K1", complaints=1, survey_average="4.5")
    )
    assert await on_group_feedback_reported(feedback, uow.as_tiering()) == []
    _, evaluation = await evaluate_on_demand(uow.as_tiering(), client_id="K1", as_of=date(2026, 12, 1), at=AT)
    assert evaluation.loyalty == Decimal("1.1000"), "1.1 - 0.05 (a complaint) + 0.05 (survey 4.5 >= 4.0)"
    assert (evaluation.inputs.verified_complaints, evaluation.inputs.survey_average) == (1, Decimal("4.5"))
