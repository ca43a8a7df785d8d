"""Value-added periods, with an identity map for the transaction and writes buffered to `flush`.

Each customer's open period is loaded once (in bulk by `preload`) and then served from memory;
closing and opening periods only changes memory. `flush` writes everything in two statements: the
existing periods that were closed, then the new ones, each with the state it ended the transaction
in (a period opened and replaced within one batch of events is stored as `replaced`). The partial
unique index allows one open period per customer; closes are written first so it always holds.

A period opened in this transaction has no database id before `flush`: it carries a negative
placeholder, which only `close` accepts. Nothing reads a new period's id within the transaction
that opened it (redemptions reference periods opened by earlier transactions).
"""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import bindparam, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncConnection

from services.entitlements.domain import Period
from services.entitlements.tables import customers, periods
from shared.events.values import Tier
from shared.sql import any_of

_CLOSE = (
    update(periods)
    .where(periods.c.period_id == bindparam("closed_id"))
    .values(state=bindparam("closed_state"))
)
_OPEN = insert(periods)


@dataclass(frozen=True, kw_only=True)
class OpenPeriod:
    """A customer's open period and its id (negative while it is not yet written)."""

    period_id: int
    period: Period


def _open_period(row: Any) -> OpenPeriod:
    return OpenPeriod(period_id=row.period_id, period=Period(tier=Tier(row.tier), start=row.start_on, end=row.end_on))


class PeriodRepository:
    def __init__(self, connection: AsyncConnection) -> None:
        self._connection = connection
        self._open: dict[str, OpenPeriod | None] = {}
        self._owner: dict[int, str] = {}
        self._closed: dict[int, str] = {}
        self._new: dict[int, dict[str, Any]] = {}

    def _remember(self, customer_id: str, opened: OpenPeriod | None) -> None:
        self._open[customer_id] = opened
        if opened is not None:
            self._owner[opened.period_id] = customer_id

    async def preload(self, customer_ids: Iterable[str]) -> None:
        """Each customer's open period, in one statement (the caller holds the customers' locks)."""
        wanted = sorted(set(customer_ids) - set(self._open))
        if not wanted:
            return
        rows = await self._connection.execute(
            select(periods).where(any_of(periods.c.customer_id, "customer_ids"), periods.c.state == "open"),
            {"customer_ids": wanted},
        )
        self._open.update(dict.fromkeys(wanted))
        for row in rows:
            self._remember(row.customer_id, _open_period(row))

    async def open_for(self, customer_id: str) -> OpenPeriod | None:
        if customer_id not in self._open:
            await self.preload([customer_id])
        return self._open[customer_id]

    async def close(self, period_id: int, *, state: str) -> None:
        """`replaced` by a newly attained tier, or `ended` by the daily run."""
        if period_id < 0:
            self._new[period_id]["state"] = state
        else:
            self._closed[period_id] = state
        customer_id = self._owner.get(period_id)
        if customer_id is not None and (found := self._open.get(customer_id)) and found.period_id == period_id:
            self._open[customer_id] = None

    async def open(self, customer_id: str, period: Period, *, opened_by: str) -> None:
        placeholder = -(len(self._new) + 1)
        self._new[placeholder] = {
            "customer_id": customer_id,
            "tier": period.tier.value,
            "start_on": period.start,
            "end_on": period.end,
            "state": "open",
            "opened_by": opened_by,
        }
        self._remember(customer_id, OpenPeriod(period_id=placeholder, period=period))

    async def due(self, *, as_of: date, limit: int) -> list[tuple[str, OpenPeriod]]:
        """Open periods whose last day is before `as_of`, found through the partial index on `end_on`.

        Their customers' rows are locked first, the same order a redemption or a tier decision takes,
        so a roll-over never interleaves with either.
        """
        locked = (
            select(customers.c.customer_id)
            .join(periods, (periods.c.customer_id == customers.c.customer_id) & (periods.c.state == "open"))
            .where(periods.c.end_on < as_of)
            .order_by(periods.c.end_on, customers.c.customer_id)
            .limit(limit)
            .with_for_update(of=customers)
        )
        customer_ids = list((await self._connection.execute(locked)).scalars())
        if not customer_ids:
            return []
        rows = await self._connection.execute(
            select(periods)
            .where(periods.c.customer_id.in_(customer_ids), periods.c.state == "open")
            .order_by(periods.c.customer_id)
        )
        found = [(row.customer_id, _open_period(row)) for row in rows]
        for customer_id, opened in found:
            self._remember(customer_id, opened)
        return found

    async def flush(self) -> None:
        if self._closed:
            await self._connection.execute(
                _CLOSE,
                [{"closed_id": period_id, "closed_state": state} for period_id, state in self._closed.items()],
            )
            self._closed.clear()
        if self._new:
            await self._connection.execute(_OPEN, [self._new[key] for key in sorted(self._new, reverse=True)])
            self._new.clear()
        self._open.clear()
        self._owner.clear()
