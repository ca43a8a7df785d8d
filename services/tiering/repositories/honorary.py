"""Honorary applications with their step decisions and endings (the audit trail).

Not on `IdentityMap`: decisions and endings are only ever inserted (the database refuses anything
else, migration 0002), an application's filed columns never change, and a new application goes in
with `ON CONFLICT DO NOTHING` on the partial "one open per customer" index, which an upsert cannot
express. So this repository is small and explicit: `lock(ids)` takes the applications' advisory locks
(`shared.locks.lock_keys`, scope `tiering-application`, key order) before any change, `get(id)` reads
an application with its trail, and `save_decision` / `save_ending` append to the trail, each followed
by `index_state`, which rewrites the `state`/`next_step` index from the domain's `Application.state`.
"""

from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import date
from typing import Any

from sqlalchemy import func, select, text, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncConnection

from services.tiering.domain.honorary import (
    CHAIN,
    Application,
    Ending,
    EndingKind,
    State,
    Step,
    StepDecision,
    Verdict,
)
from services.tiering.tables import honorary_applications, honorary_decisions, honorary_endings
from shared.events.values import Channel, Tier
from shared.locks import lock_keys
from shared.sql import any_of

LOCK_SCOPE = "tiering-application"


def _decision(row: Any) -> StepDecision:
    return StepDecision(
        step=Step(row.step),
        decided_by=row.decided_by,
        verdict=Verdict(row.verdict),
        comment=row.comment,
        decided_at=row.decided_at,
    )


def _ending(row: Any) -> Ending:
    return Ending(
        kind=EndingKind(row.kind),
        ended_by=row.ended_by,
        comment=row.comment,
        effective_on=row.effective_on,
        recorded_at=row.recorded_at,
    )


class HonoraryRepository:
    def __init__(self, connection: AsyncConnection) -> None:
        self._connection = connection

    async def add(self, application: Application) -> bool:
        """Insert a newly filed application; False when the customer already has an open one."""
        result = await self._connection.execute(
            insert(honorary_applications)
            .values(
                id=application.id,
                customer_id=application.customer_id,
                tier=application.tier.value,
                reason=application.reason,
                expires_on=application.expires_on,
                channel=application.channel.value if application.channel is not None else None,
                branch=application.branch,
                filed_by=application.filed_by,
                filed_at=application.filed_at,
                state=application.state.value,
                next_step=_step_value(application),
            )
            .on_conflict_do_nothing(
                index_elements=[honorary_applications.c.customer_id], index_where=text("state = 'pending'")
            )
        )
        return result.rowcount == 1

    async def open_for(self, customer_id: str) -> str | None:
        """The id of the customer's application still in the chain, if any."""
        found: str | None = await self._connection.scalar(
            select(honorary_applications.c.id).where(
                honorary_applications.c.customer_id == customer_id, honorary_applications.c.state == State.PENDING
            )
        )
        return found

    async def lock(self, application_ids: Iterable[str]) -> None:
        """Hold the applications' advisory locks until the transaction ends: every change takes them first."""
        await lock_keys(self._connection, scope=LOCK_SCOPE, keys=application_ids)

    async def granted_for(self, customer_id: str) -> Application | None:
        """The customer's application whose grant is in force, locked for this transaction.

        Found, then locked, then read again: a grant that ended while waiting for the lock is no
        longer in force, and the customer has none to end.
        """
        found: str | None = await self._connection.scalar(
            select(honorary_applications.c.id).where(
                honorary_applications.c.customer_id == customer_id, honorary_applications.c.state == State.APPROVED
            )
        )
        if found is None:
            return None
        await self.lock([found])
        application = await self.get(found)
        return application if application is not None and application.state is State.APPROVED else None

    async def get(self, application_id: str) -> Application | None:
        """One application with its trail (lock it first to change it)."""
        found = await self.get_many([application_id])
        return found[0] if found else None

    async def get_many(self, application_ids: Sequence[str]) -> list[Application]:
        """The applications with their trails, in three statements; unknown ids are left out."""
        rows = list(
            await self._connection.execute(
                select(honorary_applications)
                .where(any_of(honorary_applications.c.id, "ids"))
                .order_by(honorary_applications.c.id),
                {"ids": list(application_ids)},
            )
        )
        return await self._with_trails(rows)

    async def listing(
        self, *, state: State | None, step: Step | None, customer_id: str | None, limit: int
    ) -> list[Application]:
        """Applications oldest first (what waits longest comes first), each with its trail."""
        statement = select(honorary_applications).order_by(honorary_applications.c.filed_at, honorary_applications.c.id)
        if state is not None:
            statement = statement.where(honorary_applications.c.state == state.value)
        if step is not None:
            statement = statement.where(honorary_applications.c.next_step == step.value)
        if customer_id is not None:
            statement = statement.where(honorary_applications.c.customer_id == customer_id)
        rows = list(await self._connection.execute(statement.limit(limit)))
        return await self._with_trails(rows)

    async def waiting_per_step(self) -> dict[Step, int]:
        """How many applications wait at each step of the chain (every step listed, zeros too)."""
        rows = await self._connection.execute(
            select(honorary_applications.c.next_step, func.count())
            .where(honorary_applications.c.state == State.PENDING)
            .group_by(honorary_applications.c.next_step)
        )
        counts = {Step(step): count for step, count in rows}
        return {step: counts.get(step, 0) for step in CHAIN}

    async def expiring(self, *, as_of: date, after: str, limit: int) -> list[str]:
        """Grants in force whose expiry has come by `as_of`, after `after` in id order (not locked)."""
        rows = await self._connection.execute(
            select(honorary_applications.c.id)
            .where(
                honorary_applications.c.state == State.APPROVED,
                honorary_applications.c.expires_on <= as_of,
                honorary_applications.c.id > after,
            )
            .order_by(honorary_applications.c.id)
            .limit(limit)
        )
        return list(rows.scalars())

    async def save_decision(self, application: Application, decision: StepDecision) -> None:
        """Append a step's decision; follow with `index_state` of the application that includes it."""
        await self._connection.execute(
            insert(honorary_decisions).values(
                application_id=application.id,
                step_number=decision.step.number,
                step=decision.step.value,
                decided_by=decision.decided_by,
                role=decision.step.role,
                verdict=decision.verdict.value,
                comment=decision.comment,
                decided_at=decision.decided_at,
            )
        )

    async def save_ending(self, application: Application, ending: Ending) -> None:
        await self._connection.execute(
            insert(honorary_endings).values(
                application_id=application.id,
                kind=ending.kind.value,
                ended_by=ending.ended_by,
                comment=ending.comment,
                effective_on=ending.effective_on,
                recorded_at=ending.recorded_at,
            )
        )

    async def index_state(self, application: Application) -> None:
        """Store the state the trail now implies (the only columns of an application that change)."""
        await self._connection.execute(
            update(honorary_applications)
            .where(honorary_applications.c.id == application.id)
            .values(state=application.state.value, next_step=_step_value(application), updated_at=func.now())
        )

    async def _with_trails(self, rows: Sequence[Any]) -> list[Application]:
        ids = [row.id for row in rows]
        if not ids:
            return []
        decisions: dict[str, list[StepDecision]] = defaultdict(list)
        for row in await self._connection.execute(
            select(honorary_decisions)
            .where(any_of(honorary_decisions.c.application_id, "ids"))
            .order_by(honorary_decisions.c.application_id, honorary_decisions.c.step_number),
            {"ids": ids},
        ):
            decisions[row.application_id].append(_decision(row))
        endings = {
            row.application_id: _ending(row)
            for row in await self._connection.execute(
                select(honorary_endings).where(any_of(honorary_endings.c.application_id, "ids")), {"ids": ids}
            )
        }
        return [
            Application(
                id=row.id,
                customer_id=row.customer_id,
                tier=Tier(row.tier),
                reason=row.reason,
                expires_on=row.expires_on,
                filed_by=row.filed_by,
                filed_at=row.filed_at,
                channel=Channel(row.channel) if row.channel is not None else None,
                branch=row.branch,
                decisions=tuple(decisions[row.id]),
                ending=endings.get(row.id),
            )
            for row in rows
        ]


def _step_value(application: Application) -> str | None:
    step = application.next_step
    return step.value if step is not None else None
