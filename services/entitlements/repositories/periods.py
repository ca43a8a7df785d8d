"""Value-added periods, with a small identity map of its own and writes buffered to `flush`.

Not on `shared.identity_map.IdentityMap`: a period's key is a database-generated integer, periods are
appended (a new row per period, never upserted) and read by their customer. They need no lock of
their own: every change of a customer's periods holds the customer's advisory lock
(`CustomerRepository.lock`), taken before the periods are read.

Each customer's open period is loaded once (in bulk by `load`) and then served from memory;
closing and opening periods only changes memory. `flush` writes everything in two statements: the
existing periods that were closed, then the new ones, each with the state it ended the transaction
in (a period opened and replaced within one batch of events is stored as `replaced`). The partial
unique index allows one open period per customer; closes are written first so it always holds.

A period opened in this transaction has no database id before `flush`: it carries a negative
placeholder, which only `save_closed` accepts. Nothing reads a new period's id within the transaction
that opened it (redemptions reference periods opened by earlier transactions).

A late cooling-off cancellation withdraws a period (`save_withdrawn`: state `withdrawn`, its end
moved to the day before the cancellation) and may reopen the period it had replaced (`save_reopened`).
For that each customer's latest replaced period is known too (`load_replaced` for a batch, kept
current by `save_closed`). A reopened period is written after the withdrawal (its change is moved to
the end of the buffer), so the one-open-period index holds at every statement.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import bindparam, func, select, update
from sqlalchemy.dialects.postgresql import distinct_on
from sqlalchemy.ext.asyncio import AsyncConnection

from services.entitlements.domain.periods import Period
from services.entitlements.tables import periods
from shared.events.values import Tier
from shared.sql import any_of, insert_rows

_CLOSE = (
    update(periods)
    .where(periods.c.period_id == bindparam("closed_id"))
    .values(
        state=bindparam("closed_state"),
        end_on=func.coalesce(bindparam("new_end", type_=periods.c.end_on.type), periods.c.end_on),
        withdrawn_on=bindparam("withdrawn_on", type_=periods.c.withdrawn_on.type),
    )
)


@dataclass(frozen=True, kw_only=True)
class OpenPeriod:
    """A customer's open period and its id (negative while it is not yet written)."""

    period_id: int
    period: Period
    counted_policies: frozenset[str] | None = None
    """The policies counting when a tier decision opened it; None for a roll-over."""


def _open_period(row: Any) -> OpenPeriod:
    return OpenPeriod(
        period_id=row.period_id,
        period=Period(tier=Tier(row.tier), start=row.start_on, end=row.end_on),
        counted_policies=frozenset(row.counted_policies) if row.counted_policies is not None else None,
    )


class PeriodRepository:
    def __init__(self, connection: AsyncConnection) -> None:
        self._connection = connection
        self._open: dict[str, OpenPeriod | None] = {}
        self._owner: dict[int, str] = {}
        self._closed: dict[int, dict[str, Any]] = {}
        self._new: dict[int, dict[str, Any]] = {}
        self._replaced: dict[str, OpenPeriod | None] = {}

    def _remember(self, customer_id: str, opened: OpenPeriod | None) -> None:
        self._open[customer_id] = opened
        if opened is not None:
            self._owner[opened.period_id] = customer_id

    async def load(self, customer_ids: Iterable[str]) -> None:
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

    async def get(self, customer_id: str) -> OpenPeriod | None:
        """The customer's open period, None without one."""
        if customer_id not in self._open:
            await self.load([customer_id])
        return self._open[customer_id]

    async def load_replaced(self, customer_ids: Iterable[str]) -> None:
        """Each customer's latest replaced period, in one statement (under the customers' locks)."""
        wanted = sorted(set(customer_ids) - set(self._replaced))
        if not wanted:
            return
        rows = await self._connection.execute(
            select(periods)
            .ext(distinct_on(periods.c.customer_id))
            .where(any_of(periods.c.customer_id, "customer_ids"), periods.c.state == "replaced")
            .order_by(periods.c.customer_id, periods.c.period_id.desc()),
            {"customer_ids": wanted},
        )
        self._replaced.update(dict.fromkeys(wanted))
        for row in rows:
            self._replaced[row.customer_id] = _open_period(row)

    async def replaced(self, customer_id: str) -> OpenPeriod | None:
        """The period the customer's open one replaced (their latest replaced period), None without."""
        if customer_id not in self._replaced:
            await self.load_replaced([customer_id])
        return self._replaced[customer_id]

    def _change(self, period_id: int, change: dict[str, Any]) -> None:
        """Buffers a change of state (and end); a later change of the same period goes last."""
        if period_id < 0:
            row = self._new[period_id]
            row.update(state=change["state"], withdrawn_on=change["withdrawn_on"])
            if change["new_end"] is not None:
                row["end_on"] = change["new_end"]
        else:
            self._closed.pop(period_id, None)
            self._closed[period_id] = change

    def save_closed(self, period_id: int, *, state: str) -> None:
        """`replaced` by a newly attained tier, or `ended` by the daily run."""
        self._change(period_id, {"state": state, "new_end": None, "withdrawn_on": None})
        customer_id = self._owner.get(period_id)
        if customer_id is not None and (found := self._open.get(customer_id)) and found.period_id == period_id:
            self._open[customer_id] = None
            if state == "replaced":
                self._replaced[customer_id] = found

    def save_withdrawn(self, customer_id: str, opened: OpenPeriod, *, end: date, withdrawn_on: date) -> None:
        """Closes the customer's open period as `withdrawn`, its last usable day now `end`."""
        self._change(opened.period_id, {"state": "withdrawn", "new_end": end, "withdrawn_on": withdrawn_on})
        self._open[customer_id] = None

    def save_reopened(self, customer_id: str, replaced: OpenPeriod) -> None:
        """The replaced period opens again as it was (its quotas count the uses it already had)."""
        self._change(replaced.period_id, {"state": "open", "new_end": None, "withdrawn_on": None})
        self._replaced[customer_id] = None
        self._remember(customer_id, replaced)

    def save_opened(
        self, customer_id: str, period: Period, *, opened_by: str, counted_policies: frozenset[str] | None = None
    ) -> None:
        placeholder = -(len(self._new) + 1)
        self._new[placeholder] = {
            "customer_id": customer_id,
            "tier": period.tier.value,
            "start_on": period.start,
            "end_on": period.end,
            "state": "open",
            "opened_by": opened_by,
            "counted_policies": sorted(counted_policies) if counted_policies is not None else None,
            "withdrawn_on": None,
        }
        self._remember(customer_id, OpenPeriod(period_id=placeholder, period=period, counted_policies=counted_policies))

    async def due(self, *, as_of: date, after: str, limit: int) -> list[str]:
        """Customers after `after` (in id order) whose open period ended before `as_of`.

        Read without a lock, through the partial unique index of open periods by customer: the
        caller locks the customers, then reads their open periods again before changing them.
        """
        rows = await self._connection.execute(
            select(periods.c.customer_id)
            .where(periods.c.state == "open", periods.c.end_on < as_of, periods.c.customer_id > after)
            .order_by(periods.c.customer_id)
            .limit(limit)
        )
        return list(rows.scalars())

    async def flush(self) -> None:
        if self._closed:
            await self._connection.execute(
                _CLOSE,
                [
                    {"closed_id": period_id, "closed_state": change["state"], "new_end": change["new_end"],
                     "withdrawn_on": change["withdrawn_on"]}
                    for period_id, change in self._closed.items()
                ],
            )
            self._closed.clear()
        if self._new:
            await insert_rows(self._connection, periods, [self._new[key] for key in sorted(self._new, reverse=True)])
            self._new.clear()
        self._open.clear()
        self._owner.clear()
        self._replaced.clear()
