"""Entitlements' statements on customers and periods, and the unit of work that carries them all."""

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncConnection

from services.entitlements.domain import Standing, TierTimeline
from services.entitlements.period_repository import PeriodRepository
from services.entitlements.redemption_repository import RedemptionRepository
from services.entitlements.tables import customers, tier_changes
from services.entitlements.vendor_repository import VendorRepository
from shared.db import UnitOfWork
from shared.events.internal import Representative, RepresentativeChanged, TierDecided
from shared.events.values import Standard, Tier
from shared.ruleset import Ruleset
from shared.sql import any_of


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


def _customer(row: Mapping[str, Any]) -> CustomerRecord:
    representative = row["representative"]
    return CustomerRecord(
        customer_id=row["customer_id"],
        tier_revision=row["tier_revision"],
        representative_revision=row["representative_revision"],
        tier=tier_or_none(row["tier"]),
        honorary_tier=tier_or_none(row["honorary_tier"]),
        standard=Standard(row["standard"]),
        points=row["points"],
        vip_since=row["vip_since"],
        serving_channel=row["serving_channel"],
        branch=row["branch"],
        representative=Representative.model_validate(representative) if representative else None,
    )


_WRITTEN = [column.name for column in customers.columns if column.name != "updated_at"]
_SAVE = insert(customers)
_SAVE = _SAVE.on_conflict_do_update(
    index_elements=[customers.c.customer_id],
    set_={
        **{name: _SAVE.excluded[name] for name in _WRITTEN if name != "customer_id"},
        "updated_at": func.now(),
    },
)
_CREATE = insert(customers).on_conflict_do_nothing()
_RECORD_TIER_CHANGE = insert(tier_changes).on_conflict_do_nothing()


class CustomerRepository:
    """Customers, with an identity map for the transaction: rows loaded once are read from memory,
    changes are applied in memory and written by `flush` in one statement.

    Every change of a customer's standing and every redemption holds the customer's row lock
    (`SELECT ... FOR UPDATE`), taken for many customers at once in customer-id order, so they are
    applied one at a time and two batches cannot deadlock on each other.
    """

    def __init__(self, connection: AsyncConnection) -> None:
        self._connection = connection
        self._rows: dict[str, dict[str, Any] | None] = {}
        self._locked: set[str] = set()
        self._dirty: set[str] = set()
        self._tier_changes: dict[tuple[str, int], dict[str, Any]] = {}
        self._records: dict[str, CustomerRecord] = {}

    def _record(self, customer_id: str) -> CustomerRecord | None:
        """The customer's row as a record, built once per change of the row."""
        record = self._records.get(customer_id)
        if record is None:
            row = self._rows[customer_id]
            if row is None:
                return None
            record = self._records[customer_id] = _customer(row)
        return record

    async def load(self, customer_ids: Iterable[str], *, lock: bool = False, create: bool = False) -> None:
        """Read (with `lock`: lock) the customers not yet in memory; with `create`, insert missing ones."""

        def needed(customer_id: str) -> bool:
            if customer_id not in self._rows:
                return True
            if lock and customer_id not in self._locked:
                return True
            return create and self._rows[customer_id] is None

        wanted = sorted(customer_id for customer_id in set(customer_ids) if needed(customer_id))
        if not wanted:
            return
        if create:
            await self._connection.execute(_CREATE, [{"customer_id": customer_id} for customer_id in wanted])
        statement = select(customers).where(any_of(customers.c.customer_id, "customer_ids"))
        if lock:
            statement = statement.order_by(customers.c.customer_id).with_for_update()
        rows = await self._connection.execute(statement, {"customer_ids": wanted})
        self._rows.update(dict.fromkeys(wanted))
        for customer_id in wanted:
            self._records.pop(customer_id, None)
        for row in rows.mappings():
            self._rows[row["customer_id"]] = {name: row[name] for name in _WRITTEN}
        if lock:
            self._locked.update(wanted)

    async def find(self, customer_id: str, *, lock: bool = False) -> CustomerRecord | None:
        """With `lock`, the row stays locked to the end of the transaction: every redemption and
        every change of the customer's standing takes this lock, so they are applied one at a time."""
        await self.load([customer_id], lock=lock)
        return self._record(customer_id)

    async def lock_or_create(self, customer_id: str) -> CustomerRecord:
        await self.load([customer_id], lock=True, create=True)
        record = self._record(customer_id)
        assert record is not None
        return record

    def _row_to_change(self, customer_id: str) -> dict[str, Any]:
        row = self._rows.get(customer_id)
        if row is None or customer_id not in self._locked:
            raise RuntimeError(f"changing customer {customer_id} without holding the customer's row lock")
        self._dirty.add(customer_id)
        self._records.pop(customer_id, None)
        return row

    async def apply_tier(self, customer_id: str, change: TierChange) -> None:
        row = self._row_to_change(customer_id)
        row.update(
            tier_revision=change.revision,
            tier=change.tier.value if change.tier else None,
            computed_tier=change.computed_tier.value if change.computed_tier else None,
            honorary_tier=change.honorary_tier.value if change.honorary_tier else None,
            standard=change.standard.value,
            points=change.points,
            vip_since=change.vip_since,
            serving_channel=None if change.serving_channel is None else str(change.serving_channel),
            branch=change.branch,
            tier_effective_at=change.effective_at,
        )
        self._tier_changes.setdefault(
            (customer_id, change.revision),
            {
                "customer_id": customer_id,
                "revision": change.revision,
                "effective_on": change.effective_at,
                "tier": row["tier"],
            },
        )

    async def apply_representative(
        self, customer_id: str, *, revision: int, representative: Representative | None
    ) -> None:
        row = self._row_to_change(customer_id)
        row.update(
            representative_revision=revision,
            representative=representative.model_dump(mode="json") if representative else None,
        )

    async def flush(self) -> None:
        if self._dirty:
            written = [self._rows[customer_id] for customer_id in sorted(self._dirty)]
            await self._connection.execute(_SAVE, [row for row in written if row is not None])
            self._dirty.clear()
        if self._tier_changes:
            await self._connection.execute(_RECORD_TIER_CHANGE, list(self._tier_changes.values()))
            self._tier_changes.clear()

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


class EntitlementsUnitOfWork(UnitOfWork):
    def __init__(self, connection: AsyncConnection, *, ruleset: Ruleset) -> None:
        super().__init__(connection)
        self.ruleset = ruleset
        self.customers = CustomerRepository(connection)
        self.periods = PeriodRepository(connection)
        self.redemptions = RedemptionRepository(connection)
        self.vendors = VendorRepository(connection)

    async def prepare(self, events: Sequence[Any]) -> None:
        """Create, lock and load the batch's customers and their open periods in a few statements."""
        customer_ids = {event.customer_id for event in events if isinstance(event, TierDecided | RepresentativeChanged)}
        if not customer_ids:
            return
        await self.customers.load(customer_ids, lock=True, create=True)
        await self.periods.preload(
            event.customer_id for event in events if isinstance(event, TierDecided)
        )

    async def flush(self) -> None:
        await self.customers.flush()
        await self.periods.flush()

    async def standing_of(self, customer: CustomerRecord) -> tuple[Standing, int | None]:
        """The customer's standing and the id of their open period (None without one)."""
        opened = await self.periods.open_for(customer.customer_id)
        standing = Standing(tier=customer.tier, period=opened.period if opened else None, branch=customer.branch)
        return standing, opened.period_id if opened else None
