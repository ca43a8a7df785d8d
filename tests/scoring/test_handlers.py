"""Scoring's handler and daily-run step against the in-memory unit of work (`fakes.py`): no database.

`test_service.py` and `test_service_rules.py` run the same paths on the real PostgreSQL and broker.
"""

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from services.scoring.handlers import on_policy_changed
from services.scoring.workflows import DAILY_RUN_STEPS, finish
from shared.daily_run import DailyRun
from shared.events.inbound import POLICY_EVENT_ADAPTER, PolicyChanged
from shared.events.internal import CustomerScored, InternalEvent
from shared.ruleset import load_ruleset
from shared.settings import DEFAULT_RULESET_PATH
from tests.builders.policies import policy_event
from tests.scoring.fakes import FakeUnitOfWork

RULESET = load_ruleset(DEFAULT_RULESET_PATH)
AFTER_COOLING_OFF = "2026-10-08T10:00:00+08:00"
"""The default test policy is issued 2026-09-01; its cooling-off's last day is 2026-09-16, its points
count from 2026-09-17."""
IN_COOLING_OFF = "2026-09-01T10:00:00+08:00"


def event(**fields: Any) -> PolicyChanged:
    return POLICY_EVENT_ADAPTER.validate_python(policy_event(**fields))


async def handle(uow: FakeUnitOfWork, *events: PolicyChanged) -> list[CustomerScored]:
    """Each event in a transaction of its own, as a batch of one."""
    published: list[InternalEvent] = []
    for item in events:
        published.extend(await on_policy_changed(item, uow.as_unit_of_work()))
        published.extend(await uow.finish_batch())
        uow.commit()
    scored = [item for item in published if isinstance(item, CustomerScored)]
    assert len(scored) == len(published)
    return scored


async def test_a_new_policy_publishes_the_holders_points() -> None:
    uow = FakeUnitOfWork(ruleset=RULESET)
    bought = event(policy_no="P1", holder_id="C1", occurred_at=AFTER_COOLING_OFF)

    [scored] = await handle(uow, bought)

    assert (scored.customer_id, scored.revision, scored.trigger) == ("C1", 1, "new_business")
    assert (scored.points, scored.pending_points) == (Decimal("36000.00"), Decimal("0.00"))
    assert scored.correlation_id == bought.event_id
    assert [policy.state for policy in scored.policies] == ["counted"]
    stored = uow.customers.stored["C1"]
    assert (stored.revision, stored.points, stored.scored_as_of) == (1, Decimal("36000.00"), date(2026, 10, 8))


async def test_a_policy_in_cooling_off_is_pending_through_its_last_day_and_counts_from_the_day_after() -> None:
    uow = FakeUnitOfWork(ruleset=RULESET)

    [scored] = await handle(uow, event(policy_no="P1", holder_id="C1", occurred_at=IN_COOLING_OFF))

    assert (scored.points, scored.pending_points) == (Decimal("0.00"), Decimal("36000.00"))
    assert scored.policies[0].pending_until == date(2026, 9, 16)
    assert scored.pending_from == date(2026, 9, 17)
    assert uow.customers.stored["C1"].next_pending_date == date(2026, 9, 17)


async def test_an_event_on_the_cooling_offs_last_day_leaves_the_points_pending() -> None:
    uow = FakeUnitOfWork(ruleset=RULESET)

    [on_last_day] = await handle(uow, event(policy_no="P1", holder_id="C1", occurred_at="2026-09-16T23:00:00+08:00"))
    [day_after] = await handle(uow, event(policy_no="P1", holder_id="C1", version=2, event_type="beneficiary_change",
                                          occurred_at="2026-09-17T00:30:00+08:00"))

    assert (on_last_day.points, on_last_day.pending_from) == (Decimal("0.00"), date(2026, 9, 17))
    assert (day_after.points, day_after.pending_points, day_after.pending_from) == (
        Decimal("36000.00"), Decimal("0.00"), None
    )


async def test_a_stale_version_publishes_nothing_and_is_recorded() -> None:
    uow = FakeUnitOfWork(ruleset=RULESET)
    await handle(uow, event(policy_no="P1", holder_id="C1", version=3, occurred_at=AFTER_COOLING_OFF))
    older = event(policy_no="P1", holder_id="C1", version=2, event_type="surrender", status="surrendered")

    published = await handle(uow, older)

    assert published == []
    assert uow.stale_events == 1
    assert uow.policies.stale == [
        {"event_id": older.event_id, "event_type": "surrender", "version": 2, "applied_version": 3}
    ]
    assert uow.policies.stored["P1"].version == 3
    assert uow.customers.stored["C1"].revision == 1


async def test_a_policyholder_change_rescores_both_holders() -> None:
    uow = FakeUnitOfWork(ruleset=RULESET)
    await handle(
        uow,
        event(policy_no="P1", holder_id="OLD", occurred_at=AFTER_COOLING_OFF),
        event(policy_no="P2", holder_id="OLD", occurred_at=AFTER_COOLING_OFF, modal_premium="1000.00"),
    )
    change = event(
        policy_no="P1", holder_id="NEW", version=2, event_type="policyholder_change", previous_holder_id="OLD"
    )

    published = await handle(uow, change)

    assert {scored.customer_id: scored.points for scored in published} == {
        "NEW": Decimal("36000.00"),
        "OLD": Decimal("1000.00"),
    }
    assert all(scored.correlation_id == change.event_id for scored in published)
    assert [policy.policy_no for policy in next(s for s in published if s.customer_id == "OLD").policies] == ["P2"]
    assert uow.customers.stored["OLD"].revision == 3


async def test_a_late_event_is_scored_at_the_last_daily_run_not_before() -> None:
    uow = FakeUnitOfWork(ruleset=RULESET)
    await handle(uow, event(policy_no="P1", holder_id="C1", occurred_at=IN_COOLING_OFF))
    await uow.daily_runs.record(as_of=date(2026, 9, 17), changed=0)
    late = event(
        policy_no="P1", holder_id="C1", version=2, event_type="beneficiary_change",
        occurred_at="2026-09-05T09:00:00+08:00",
    )

    [scored] = await handle(uow, late)

    assert (scored.as_of, scored.points, scored.pending_points) == (
        date(2026, 9, 17), Decimal("36000.00"), Decimal("0.00")
    )


async def test_the_daily_run_counts_pending_points_once_due_and_only_once() -> None:
    uow = FakeUnitOfWork(ruleset=RULESET)
    await handle(uow, event(policy_no="P1", holder_id="C1", occurred_at=IN_COOLING_OFF))
    [step] = DAILY_RUN_STEPS

    def run(day: date) -> DailyRun:
        return DailyRun(as_of=day, started_at=datetime(2026, 9, 16, 1, tzinfo=UTC), run_by="test")

    last_day = await step.apply_chunk(uow.as_unit_of_work(), run=run(date(2026, 9, 16)), after="", limit=10)
    due = await step.apply_chunk(uow.as_unit_of_work(), run=run(date(2026, 9, 17)), after="", limit=10)
    uow.commit()
    again = await step.apply_chunk(uow.as_unit_of_work(), run=run(date(2026, 9, 17)), after="", limit=10)
    await finish(uow.as_unit_of_work(), run(date(2026, 9, 17)), due.changed)

    assert (last_day.looked_at, due.changed, due.last_key, again.looked_at) == (0, 1, "2026-09-17|C1", 0)
    [scored] = [item for item in uow.published if isinstance(item, CustomerScored)]
    assert (scored.trigger, scored.revision, scored.points) == ("daily_run", 2, Decimal("36000.00"))
    assert scored.as_of == date(2026, 9, 17)
    assert uow.daily_runs.runs == {date(2026, 9, 17): 1}


async def test_the_daily_run_walks_due_customers_by_date_then_id_after_its_cursor() -> None:
    uow = FakeUnitOfWork(ruleset=RULESET)
    await handle(
        uow,
        event(policy_no="P1", holder_id="C2", occurred_at=IN_COOLING_OFF),
        event(policy_no="P2", holder_id="C1", occurred_at=IN_COOLING_OFF, cooling_off_ends_on="2026-09-18"),
        event(policy_no="P3", holder_id="C3", occurred_at=IN_COOLING_OFF),
    )
    [step] = DAILY_RUN_STEPS
    run = DailyRun(as_of=date(2026, 9, 20), started_at=datetime(2026, 9, 20, 1, tzinfo=UTC), run_by="test")

    first = await step.apply_chunk(uow.as_unit_of_work(), run=run, after="", limit=2)
    uow.commit()
    second = await step.apply_chunk(uow.as_unit_of_work(), run=run, after=first.last_key, limit=2)

    assert (first.changed, first.last_key) == (2, "2026-09-17|C3")
    assert (second.changed, second.last_key) == (1, "2026-09-19|C1")
    assert [item.customer_id for item in uow.published] == ["C2", "C3", "C1"]


async def test_a_batch_of_a_large_books_policies_publishes_one_score_with_every_policy_and_the_last_trigger() -> None:
    uow = FakeUnitOfWork(ruleset=RULESET)
    uow.coalesce_from_policies = 3
    batch = [event(policy_no=f"P{index}", holder_id="C1") for index in range(5)]
    batch.append(event(policy_no="P0", holder_id="C1", version=2, event_type="additional_premium",
                       modal_premium="40000.00"))

    handled = [await on_policy_changed(item, uow.as_unit_of_work()) for item in batch]
    [score] = await uow.finish_batch()

    # a small book (1 and 2 policies) is scored per event; from the third policy, once at the batch's end
    assert [len(out) for out in handled] == [1, 1, 0, 0, 0, 0]
    assert isinstance(score, CustomerScored)
    assert (score.revision, score.trigger, len(score.policies)) == (3, "additional_premium", 5)
    alone = await handle(FakeUnitOfWork(ruleset=RULESET), *batch)
    assert score.points == alone[-1].points and score.standard_premium == alone[-1].standard_premium
