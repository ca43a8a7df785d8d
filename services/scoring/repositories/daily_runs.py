"""The daily runs done, one row per business date: the last one bounds the date events score at.

Not an identity map: the key is a date, not text, and recording a run increments its `runs` count
in the upsert itself, so one atomic statement needs no lock and no read first.
"""

from datetime import date

from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncConnection

from services.scoring.tables import daily_runs


class DailyRunRepository:
    def __init__(self, connection: AsyncConnection) -> None:
        self._connection = connection
        self._latest: tuple[date | None] | None = None

    async def latest(self) -> date | None:
        """The last date a daily run ran for; read once per transaction."""
        if self._latest is None:
            value = await self._connection.scalar(select(func.max(daily_runs.c.as_of)))
            self._latest = (value if isinstance(value, date) else None,)
        return self._latest[0]

    async def record(self, *, as_of: date, changed: int) -> None:
        statement = insert(daily_runs).values(as_of=as_of, changed=changed, runs=1)
        await self._connection.execute(
            statement.on_conflict_do_update(
                index_elements=[daily_runs.c.as_of],
                set_={"changed": changed, "runs": daily_runs.c.runs + 1, "ran_at": func.now()},
            )
        )
