"""Operations figures of the representatives' duties, read from assignment's own tables (`ops.py`
serves them as `GET /v1/ops/duties` and the `/metrics` gauges).

"Due so far" is an item (not cancelled) due on or before today; "on time" one done by its due date;
"overdue" one still to be done past its due date. An item counts for the representative who did it,
or who holds it if not done; a branch is the representative's. A VIP "meets every minimum so far"
when each duty with a minimum has that many items done on time and every item of the duties without
one (deliveries, help) that is due so far was done on time.
"""

from collections.abc import Mapping
from datetime import date

from pydantic import BaseModel
from sqlalchemy import Integer, and_, case, cast, func, select
from sqlalchemy.ext.asyncio import AsyncConnection

from services.assignment.tables import agents, customers, work_items
from shared.ruleset import Duties

NOBODY = "(none)"


class Performance(BaseModel):
    key: str
    due: int
    done: int
    on_time: int
    on_time_share: float | None
    overdue: int


class Compliance(BaseModel):
    vips: int
    meeting_every_minimum: int


class DutyFigures(BaseModel):
    year: int
    as_of: date
    overdue: int
    by_representative: list[Performance]
    by_branch: list[Performance]
    compliance: Compliance


async def items_by_state(connection: AsyncConnection) -> dict[str, dict[str, float]]:
    """Items still to be done per state ("open", "overdue") and duty: the gauges."""
    statement = (
        select(work_items.c.state, work_items.c.duty, func.count())
        .where(work_items.c.state.in_(["open", "overdue"]))
        .group_by(work_items.c.state, work_items.c.duty)
    )
    found: dict[str, dict[str, float]] = {}
    for state, duty, count in (await connection.execute(statement)).all():
        found.setdefault(state, {})[duty] = count
    return found


async def duty_figures(connection: AsyncConnection, *, year: int, today: date, duties: Duties) -> DutyFigures:
    w = work_items
    on_time = and_(w.c.state == "done", w.c.done_on <= w.c.due_on)
    overdue = and_(w.c.state.in_(["open", "overdue"]), w.c.due_on < today)
    holder = func.coalesce(w.c.done_by_agent, w.c.agent_id, NOBODY)
    figures = (
        func.count().filter(w.c.due_on <= today),
        func.count().filter(and_(w.c.state == "done", w.c.due_on <= today)),
        func.count().filter(and_(on_time, w.c.due_on <= today)),
        func.count().filter(overdue),
    )
    rows = (
        await connection.execute(
            select(holder.label("agent"), func.coalesce(agents.c.branch, NOBODY).label("branch"), *figures)
            .select_from(w.outerjoin(agents, agents.c.agent_id == holder))
            .where(w.c.year == year, w.c.state != "cancelled")
            .group_by(holder, agents.c.branch)
        )
    ).all()
    by_agent: dict[str, list[int]] = {}
    by_branch: dict[str, list[int]] = {}
    for agent, branch, *counts in rows:
        for key, into in ((agent, by_agent), (branch, by_branch)):
            into[key] = [a + b for a, b in zip(into.get(key, [0, 0, 0, 0]), counts, strict=True)]
    return DutyFigures(
        year=year, as_of=today, overdue=sum(counts[3] for counts in by_agent.values()),
        by_representative=_ranked(by_agent), by_branch=_ranked(by_branch),
        compliance=await _compliance(connection, year=year, today=today, duties=duties),
    )


def _ranked(groups: Mapping[str, list[int]]) -> list[Performance]:
    """Most overdue first, then by key."""
    performances = [
        Performance(
            key=key, due=due, done=done, on_time=on_time, on_time_share=round(on_time / due, 4) if due else None,
            overdue=overdue,
        )
        for key, (due, done, on_time, overdue) in groups.items()
    ]
    return sorted(performances, key=lambda each: (-each.overdue, each.key))


async def _compliance(connection: AsyncConnection, *, year: int, today: date, duties: Duties) -> Compliance:
    w = work_items
    on_time = and_(w.c.state == "done", w.c.done_on <= w.c.due_on)
    conditions = []
    for duty, rule in duties.rules.items():
        if rule.minimum is not None:
            conditions.append(func.count().filter(and_(w.c.duty == duty.value, on_time)) >= rule.minimum)
        else:
            conditions.append(
                func.count().filter(and_(w.c.duty == duty.value, w.c.due_on <= today, ~on_time)) == 0
            )
    per_customer = (
        select(cast(case((and_(*conditions), 1), else_=0), Integer).label("meets"))
        .select_from(w.join(customers, customers.c.customer_id == w.c.customer_id))
        .where(w.c.year == year, w.c.state != "cancelled", customers.c.tier.is_not(None))
        .group_by(w.c.customer_id)
        .subquery()
    )
    meeting = (await connection.execute(select(func.coalesce(func.sum(per_customer.c.meets), 0)))).scalar_one()
    vips = (
        await connection.execute(select(func.count()).select_from(customers).where(customers.c.tier.is_not(None)))
    ).scalar_one()
    return Compliance(vips=int(vips), meeting_every_minimum=int(meeting))
