"""Entitlements' statements on customers and periods, and the unit of work that carries them all."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncConnection

from services.entitlements.domain import Period, Standing, TierTimeline
from services.entitlements.redemption_repository import RedemptionRepository
from services.entitlements.tables import customers, periods, tier_changes
from services.entitlements.vendor_repository import VendorRepository
from shared.db import UnitOfWork
from shared.events.internal import Representative
from shared.events.values import Standard, Tier
from shared.ruleset import Ruleset


def tier_or_none(value: str | None) -> Tier | None:
    return Tier(value) if value is not None else None


@dataclass(frozen=True, kw_only=True)
class CustomerRecord:
    """A customer as the call center sees them, with the revisions last applied."""

    customer_id: str
    tier_revision: int
    representative_revision: int
    tier: Tier | None
    honorary_tier: Tier | None
    standard: Standard
    points: Decimal
    vip_since: date | None
    serving_channel: str | None
    branch: str | None
    representative: Representative | None


@dataclass(frozen=True, kw_only=True)
class OpenPeriod:
    period_id: int
    period: Period


@dataclass(frozen=True, kw_only=True)
class TierChange:
    """What a `TierDecided` leaves on the customer's row."""

    revision: int
    tier: Tier | None
    computed_tier: Tier | None
    honorary_tier: Tier | None
    standard: Standard
    points: Decimal
    vip_since: date | None
    serving_channel: str | None
    branch: str | None
    effective_at: date


def _customer(row: Any) -> CustomerRecord:
    return CustomerRecord(
        customer_id=row.customer_id,
        tier_revision=row.tier_revision,
        representative_revision=row.representative_revision,
        tier=tier_or_none(row.tier),
        honorary_tier=tier_or_none(row.honorary_tier),
        standard=Standard(row.standard),
        points=row.points,
        vip_since=row.vip_since,
        serving_channel=row.serving_channel,
        branch=row.branch,
        representative=Representative.model_validate(row.representative) if row.representative else None,
    )


class CustomerRepository:
    def __init__(self, connection: AsyncConnection) -> None:
        self._connection = connection

    async def find(self, customer_id: str, *, lock: bool = False) -> CustomerRecord | None:
        """With `lock`, the row stays locked to the end of the transaction: every redemption and
        every change of the customer's standing takes this lock, so they are applied one at a time."""
        statement = select(customers).where(customers.c.customer_id == customer_id)
        if lock:
            statement = statement.with_for_update()
        row = (await self._connection.execute(statement)).one_or_none()
        return _customer(row) if row else None

    async def lock_or_create(self, customer_id: str) -> CustomerRecord:
        await self._connection.execute(insert(customers).values(customer_id=customer_id).on_conflict_do_nothing())
        found = await self.find(customer_id, lock=True)
        assert found is not None
        return found

    async def apply_tier(self, customer_id: str, change: TierChange) -> None:
        await self._connection.execute(
            update(customers)
            .where(customers.c.customer_id == customer_id)
            .values(
                tier_revision=change.revision,
                tier=change.tier,
                computed_tier=change.computed_tier,
                honorary_tier=change.honorary_tier,
                standard=change.standard.value,
                points=change.points,
                vip_since=change.vip_since,
                serving_channel=change.serving_channel,
                branch=change.branch,
                tier_effective_at=change.effective_at,
                updated_at=func.now(),
            )
        )
        await self._connection.execute(
            insert(tier_changes)
            .values(
                customer_id=customer_id, revision=change.revision, effective_on=change.effective_at, tier=change.tier
            )
            .on_conflict_do_nothing()
        )

    async def apply_representative(
        self, customer_id: str, *, revision: int, representative: Representative | None
    ) -> None:
        await self._connection.execute(
            update(customers)
            .where(customers.c.customer_id == customer_id)
            .values(
                representative_revision=revision,
                representative=representative.model_dump(mode="json") if representative else None,
                updated_at=func.now(),
            )
        )

    async def timelines(self, customer_ids: Sequence[str]) -> dict[str, TierTimeline]:
        """Each customer's tier changes in the order they were applied (by revision)."""
        rows = await self._connection.execute(
            select(tier_changes.c.customer_id, tier_changes.c.effective_on, tier_changes.c.tier)
            .where(tier_changes.c.customer_id.in_(customer_ids))
            .order_by(tier_changes.c.customer_id, tier_changes.c.revision)
        )
        changes: dict[str, list[tuple[date, Tier | None]]] = {customer_id: [] for customer_id in customer_ids}
        for row in rows:
            changes[row.customer_id].append((row.effective_on, tier_or_none(row.tier)))
        return {customer_id: TierTimeline(changes=tuple(found)) for customer_id, found in changes.items()}


class PeriodRepository:
    def __init__(self, connection: AsyncConnection) -> None:
        self._connection = connection

    async def open_for(self, customer_id: str) -> OpenPeriod | None:
        row = (
            await self._connection.execute(
                select(periods).where(periods.c.customer_id == customer_id, periods.c.state == "open")
            )
        ).one_or_none()
        if row is None:
            return None
        return OpenPeriod(
            period_id=row.period_id, period=Period(tier=Tier(row.tier), start=row.start_on, end=row.end_on)
        )

    async def close(self, period_id: int, *, state: str) -> None:
        """`replaced` by a newly attained tier, or `ended` by the daily run."""
        await self._connection.execute(update(periods).where(periods.c.period_id == period_id).values(state=state))

    async def open(self, customer_id: str, period: Period, *, opened_by: str) -> int:
        period_id = await self._connection.scalar(
            insert(periods)
            .values(
                customer_id=customer_id,
                tier=period.tier.value,
                start_on=period.start,
                end_on=period.end,
                state="open",
                opened_by=opened_by,
            )
            .returning(periods.c.period_id)
        )
        assert period_id is not None
        return int(period_id)

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
        return [
            (
                row.customer_id,
                OpenPeriod(
                    period_id=row.period_id, period=Period(tier=Tier(row.tier), start=row.start_on, end=row.end_on)
                ),
            )
            for row in rows
        ]


class EntitlementsUnitOfWork(UnitOfWork):
    def __init__(self, connection: AsyncConnection, *, ruleset: Ruleset) -> None:
        super().__init__(connection)
        self.ruleset = ruleset
        self.customers = CustomerRepository(connection)
        self.periods = PeriodRepository(connection)
        self.redemptions = RedemptionRepository(connection)
        self.vendors = VendorRepository(connection)

    async def standing_of(self, customer: CustomerRecord) -> tuple[Standing, int | None]:
        """The customer's standing and the id of their open period (None without one)."""
        opened = await self.periods.open_for(customer.customer_id)
        standing = Standing(tier=customer.tier, period=opened.period if opened else None, branch=customer.branch)
        return standing, opened.period_id if opened else None
