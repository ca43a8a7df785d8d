"""The customer's history: every tier decision and representative change applied (`customer_history`).

Written by the handlers alongside the customer row, under the customer's lock, buffered to `flush`
and inserted in one statement per batch; a redelivered event (same customer, kind and revision) is
kept once. Rows are never updated: a later decision is a new row, so what was answered for a day
before it arrived can always be told (`domain/as_of.py`). Read only by the as-of look-ups, never on
the hot path; those also read here the period and the uses as they stood on a day.
"""

from collections.abc import Mapping
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import ColumnElement, and_, func, or_, select
from sqlalchemy.ext.asyncio import AsyncConnection

from services.entitlements.domain.as_of import REPRESENTATIVE, TIER, HistoryRow
from services.entitlements.domain.customers import Customer, Representative
from services.entitlements.domain.periods import Period
from services.entitlements.tables import customer_history, featured_services, periods, redemptions
from shared.events.values import Channel, Standard, Tier
from shared.sql import insert_rows

_TIERS = ("tier", "computed_tier", "honorary_tier")
_DECIMALS = ("points", "pending_points")
_DATES = ("vip_since", "pending_from")


def _day(value: date | None) -> str | None:
    return value.isoformat() if value is not None else None


def tier_state(customer: Customer) -> dict[str, Any]:
    """The tier decision's fields of the customer, as JSON."""
    return {
        **{name: getattr(customer, name).value if getattr(customer, name) else None for name in _TIERS},
        "standard": customer.standard.value,
        "points": f"{customer.points:.2f}",
        "vip_since": _day(customer.vip_since),
        "serving_channel": customer.serving_channel,
        "branch": customer.branch,
        "pending_points": f"{customer.pending_points:.2f}",
        "pending_from": _day(customer.pending_from),
    }


def representative_state(customer: Customer) -> dict[str, Any]:
    found = customer.representative
    return {
        "representative": None if found is None else {
            "agent_id": found.agent_id, "name": found.name, "channel": found.channel.value
        }
    }


def _domain_state(kind: str, stored: Mapping[str, Any]) -> dict[str, Any]:
    """The stored JSON back as `Customer`'s field values."""
    if kind == REPRESENTATIVE:
        found = stored.get("representative")
        return {
            "representative": None if not found else Representative(
                agent_id=found["agent_id"], name=found["name"], channel=Channel(found["channel"])
            )
        }
    state: dict[str, Any] = {name: Tier(stored[name]) if stored.get(name) else None for name in _TIERS}
    state |= {name: Decimal(stored[name]) for name in _DECIMALS if stored.get(name) is not None}
    state |= {name: date.fromisoformat(stored[name]) if stored.get(name) else None for name in _DATES}
    return state | {
        "standard": Standard(stored["standard"]),
        "serving_channel": stored.get("serving_channel"),
        "branch": stored.get("branch"),
    }


class HistoryRepository:
    def __init__(self, connection: AsyncConnection) -> None:
        self._connection = connection
        self._rows: dict[tuple[str, str, int], dict[str, Any]] = {}

    def _record(self, customer_id: str, *, kind: str, revision: int, effective_on: date, state: dict[str, Any]) -> None:
        self._rows.setdefault(
            (customer_id, kind, revision),
            {"customer_id": customer_id, "kind": kind, "revision": revision, "effective_on": effective_on,
             "state": state},
        )

    def record_tier(self, customer: Customer) -> None:
        """The customer right after a tier decision, effective from its `tier_effective_at`."""
        assert customer.tier_effective_at is not None
        self._record(
            customer.customer_id, kind=TIER, revision=customer.tier_revision,
            effective_on=customer.tier_effective_at, state=tier_state(customer),
        )

    def record_representative(self, customer: Customer, *, effective_on: date) -> None:
        self._record(
            customer.customer_id, kind=REPRESENTATIVE, revision=customer.representative_revision,
            effective_on=effective_on, state=representative_state(customer),
        )

    async def flush(self) -> None:
        if self._rows:
            rows = list(self._rows.values())
            self._rows.clear()
            await insert_rows(self._connection, customer_history, rows, skip_conflicts=True)

    async def of(self, customer_id: str) -> list[HistoryRow]:
        """Every row of the customer, both kinds, in the order they were applied."""
        found = await self._connection.execute(
            select(customer_history)
            .where(customer_history.c.customer_id == customer_id)
            .order_by(customer_history.c.kind, customer_history.c.revision)
        )
        return [
            HistoryRow(
                kind=row.kind, revision=row.revision, effective_on=row.effective_on, recorded_at=row.recorded_at,
                state=_domain_state(row.kind, row.state),
            )
            for row in found
        ]

    async def period_in_force(self, customer_id: str, *, day: date) -> tuple[int, Period] | None:
        """The period covering `day` as the periods stand: of those whose start is on or before it and
        whose (last) end is on or after it, the one opened last. A period a later decision replaced
        still answers for the days before its successor started; a withdrawn one for the days before
        the cancellation (its end was moved to the day before)."""
        row = (
            await self._connection.execute(
                select(periods.c.period_id, periods.c.tier, periods.c.start_on, periods.c.end_on)
                .where(periods.c.customer_id == customer_id, periods.c.start_on <= day, periods.c.end_on >= day)
                .order_by(periods.c.period_id.desc())
                .limit(1)
            )
        ).one_or_none()
        if row is None:
            return None
        return row.period_id, Period(tier=Tier(row.tier), start=row.start_on, end=row.end_on)

    async def usage_on(self, customer_id: str, *, period_id: int | None, day: date, zone: str) -> dict[str, int]:
        """Uses per service code as they stood at the end of `day`: redeemed on or before it and not
        reversed by then (a reversal counts from its local date in the insurer's `zone`), in each
        service's window (the period in force for value-added services, all time for basic ones)."""
        in_window: ColumnElement[bool] = redemptions.c.period_id.is_(None)
        if period_id is not None:
            in_window = or_(in_window, redemptions.c.period_id == period_id)
        reversed_by_then = and_(
            redemptions.c.reversed_at.is_not(None), func.date(func.timezone(zone, redemptions.c.reversed_at)) <= day
        )
        rows = await self._connection.execute(
            select(redemptions.c.service_code, func.count())
            .where(
                redemptions.c.customer_id == customer_id, redemptions.c.redeemed_on <= day, ~reversed_by_then,
                in_window,
            )
            .group_by(redemptions.c.service_code)
        )
        return {code: int(count) for code, count in rows}

    async def featured_codes_decided_after(self, *, branch: str | None, day: date, zone: str) -> set[str]:
        """The branch's featured services approved only after `day`: not offered on it."""
        if branch is None:
            return set()
        rows = await self._connection.execute(
            select(featured_services.c.code).where(
                featured_services.c.branch == branch,
                func.date(func.timezone(zone, featured_services.c.decided_at)) > day,
            )
        )
        return {row.code for row in rows}
