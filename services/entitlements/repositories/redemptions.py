"""Redemptions: the uses of services, their idempotency answers, reversals and the cost report.

Counting and taking a unit happen under the customer's advisory lock (`CustomerRepository.lock`), so
the count read here is exact for the rest of the transaction. Not on `IdentityMap`: redemptions and
answers are appended once and never upserted (a reversal is one guarded update), and a request
touches one customer's few rows, so there is no batch to buffer.
"""

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import and_, case, func, or_, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql.expression import ColumnElement

from services.entitlements.tables import periods, redemption_requests, redemptions


@dataclass(frozen=True, kw_only=True)
class StoredAnswer:
    fingerprint: str
    status_code: int
    body: dict[str, Any]


@dataclass(frozen=True, kw_only=True)
class NewRedemption:
    redemption_id: str
    customer_id: str
    service_code: str
    featured: bool
    period_id: int | None
    vendor_id: str | None
    contract_id: str | None
    unit_cost: Decimal
    bearer_kind: str
    bearer: str
    channel: str | None
    branch: str | None
    note: str | None
    redeemed_on: date
    redeemed_by: str


@dataclass(frozen=True, kw_only=True)
class StoredRedemption:
    redemption_id: str
    customer_id: str
    service_code: str
    period_id: int | None
    redeemed_on: date
    redeemed_by: str
    reversed_at: datetime | None


@dataclass(frozen=True, kw_only=True)
class CostRow:
    channel: str | None
    branch: str | None
    vendor_id: str | None
    service_code: str
    bearer_kind: str
    bearer: str
    redemptions: int
    reversed: int
    cost: Decimal
    withdrawn_grant: bool = False
    """Uses made under a value-added period a late cooling-off cancellation withdrew."""


@dataclass(frozen=True, kw_only=True)
class ReversalRow:
    """A reversed use: it stays in the report as a credit of its unit cost, never silently removed."""

    redemption_id: str
    customer_id: str
    service_code: str
    bearer_kind: str
    bearer: str
    unit_cost: Decimal
    redeemed_on: date
    redeemed_by: str
    reversed_at: datetime
    reversed_by: str
    reason: str | None


class RedemptionRepository:
    def __init__(self, connection: AsyncConnection) -> None:
        self._connection = connection

    async def usage(self, customer_id: str, *, period_id: int | None) -> dict[str, int]:
        """Uses not reversed, per service code, in each service's window: the open period for
        value-added services (their uses carry its id), the whole history for basic services."""
        in_window: ColumnElement[bool] = redemptions.c.period_id.is_(None)
        if period_id is not None:
            in_window = or_(in_window, redemptions.c.period_id == period_id)
        rows = await self._connection.execute(
            select(redemptions.c.service_code, func.count())
            .where(redemptions.c.customer_id == customer_id, redemptions.c.reversed_at.is_(None), in_window)
            .group_by(redemptions.c.service_code)
        )
        return {code: int(count) for code, count in rows}

    async def answer_for(self, customer_id: str, *, idempotency_key: str) -> StoredAnswer | None:
        row = (
            await self._connection.execute(
                select(redemption_requests).where(
                    redemption_requests.c.customer_id == customer_id,
                    redemption_requests.c.idempotency_key == idempotency_key,
                )
            )
        ).one_or_none()
        if row is None:
            return None
        return StoredAnswer(fingerprint=row.fingerprint, status_code=row.status_code, body=dict(row.body))

    async def save_answer(self, customer_id: str, *, idempotency_key: str, answer: StoredAnswer) -> None:
        await self._connection.execute(
            insert(redemption_requests).values(
                customer_id=customer_id,
                idempotency_key=idempotency_key,
                fingerprint=answer.fingerprint,
                status_code=answer.status_code,
                body=answer.body,
            )
        )

    async def save_redemption(self, redemption: NewRedemption) -> None:
        await self._connection.execute(insert(redemptions).values(**redemption.__dict__))

    async def find(self, redemption_id: str) -> StoredRedemption | None:
        row = (
            await self._connection.execute(select(redemptions).where(redemptions.c.redemption_id == redemption_id))
        ).one_or_none()
        if row is None:
            return None
        return StoredRedemption(
            redemption_id=row.redemption_id,
            customer_id=row.customer_id,
            service_code=row.service_code,
            period_id=row.period_id,
            redeemed_on=row.redeemed_on,
            redeemed_by=row.redeemed_by,
            reversed_at=row.reversed_at,
        )

    async def reverse(self, redemption_id: str, *, by: str, reason: str | None) -> datetime:
        """Marks the use reversed; the row stays, so the record of what happened is kept."""
        reversed_at = await self._connection.scalar(
            update(redemptions)
            .where(redemptions.c.redemption_id == redemption_id, redemptions.c.reversed_at.is_(None))
            .values(reversed_at=func.now(), reversed_by=by, reversal_reason=reason)
            .returning(redemptions.c.reversed_at)
        )
        assert reversed_at is not None
        return reversed_at  # type: ignore[no-any-return]

    async def history(self, customer_id: str) -> list[dict[str, Any]]:
        rows = await self._connection.execute(
            select(redemptions)
            .where(redemptions.c.customer_id == customer_id)
            .order_by(redemptions.c.redeemed_at.desc())
        )
        return [dict(row._mapping) for row in rows]

    async def cost_rows(self, *, first_day: date, last_day: date) -> list[CostRow]:
        """Uses and cost per channel, branch, vendor, service and bearer over the days, both included.

        A reversed use costs nothing and is counted apart (`reversals` lists each one); uses under a
        withdrawn period are rows of their own (`withdrawn_grant`).
        """
        live = redemptions.c.reversed_at.is_(None)
        withdrawn = func.coalesce(periods.c.state == "withdrawn", False).label("withdrawn_grant")
        keys = (
            redemptions.c.channel,
            redemptions.c.branch,
            redemptions.c.vendor_id,
            redemptions.c.service_code,
            redemptions.c.bearer_kind,
            redemptions.c.bearer,
            withdrawn,
        )
        rows = await self._connection.execute(
            select(
                *keys,
                func.count().filter(live).label("used"),
                func.count().filter(~live).label("reversed"),
                func.coalesce(func.sum(case((live, redemptions.c.unit_cost), else_=0)), 0).label("cost"),
            )
            .select_from(redemptions.outerjoin(periods, periods.c.period_id == redemptions.c.period_id))
            .where(and_(redemptions.c.redeemed_on >= first_day, redemptions.c.redeemed_on <= last_day))
            .group_by(*keys)
            .order_by(*keys)
        )
        return [
            CostRow(
                channel=row.channel,
                branch=row.branch,
                vendor_id=row.vendor_id,
                service_code=row.service_code,
                bearer_kind=row.bearer_kind,
                bearer=row.bearer,
                redemptions=int(row.used),
                reversed=int(row.reversed),
                cost=Decimal(row.cost),
                withdrawn_grant=bool(row.withdrawn_grant),
            )
            for row in rows
        ]

    async def reversals(self, *, first_day: date, last_day: date) -> list[ReversalRow]:
        """The reversed uses among those made over the days, both included, in the order reversed."""
        rows = await self._connection.execute(
            select(redemptions)
            .where(
                redemptions.c.reversed_at.is_not(None),
                redemptions.c.redeemed_on >= first_day,
                redemptions.c.redeemed_on <= last_day,
            )
            .order_by(redemptions.c.reversed_at, redemptions.c.redemption_id)
        )
        return [
            ReversalRow(
                redemption_id=row.redemption_id,
                customer_id=row.customer_id,
                service_code=row.service_code,
                bearer_kind=row.bearer_kind,
                bearer=row.bearer,
                unit_cost=row.unit_cost,
                redeemed_on=row.redeemed_on,
                redeemed_by=row.redeemed_by,
                reversed_at=row.reversed_at,
                reversed_by=row.reversed_by,
                reason=row.reversal_reason,
            )
            for row in rows
        ]
