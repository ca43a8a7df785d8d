"""Tiering's statements, and the unit of work that carries them through one transaction.

A batch of events is applied in a handful of statements (`bulk.py`): `prepare` locks and loads every
customer the batch is about (three statements), the handlers work on the repositories' identity map,
and `flush` writes the saved customers and the recorded decisions (one statement each) before commit.
"""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from enum import Enum
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from services.tiering import bulk
from services.tiering.domain import CustomerTiering, Honorary, LegacyStanding, Score, TierDecision
from services.tiering.honorary_repository import HonoraryRepository
from services.tiering.tables import customers, tier_decisions
from shared.db import UnitOfWork
from shared.events.inbound import LegacyVipImported
from shared.events.internal import CUSTOMER_SCORED_ADAPTER, CustomerScored
from shared.events.values import Channel, Standard, Tier
from shared.ruleset import Ruleset


@dataclass(frozen=True, slots=True)
class StoredCustomer:
    customer_id: str
    state: CustomerTiering
    revision: int
    """Of the last TierDecided published for the customer."""
    parsed: CustomerScored | None = None
    document: dict[str, Any] | None = field(default=None, repr=False)
    """The last score applied as stored (JSON), for `scored` to parse when it is first asked for."""

    @property
    def scored(self) -> CustomerScored | None:
        """The last score applied, whole: its policies go out with every decision.

        A new score replaces it without reading it, so it is parsed only when a roster entry, an
        honorary change or the daily run re-decides the customer.
        """
        if self.parsed is None and self.document is not None:
            object.__setattr__(self, "parsed", CUSTOMER_SCORED_ADAPTER.validate_python(self.document))
        return self.parsed


def score_of(event: CustomerScored) -> Score:
    return Score(
        as_of=event.as_of,
        points=event.points,
        standard_premium=event.standard_premium,
        serving_channel=event.serving_channel,
        trigger=event.trigger,
    )


def _score_in(document: dict[str, Any]) -> Score:
    """`score_of` the stored CustomerScored, read from its JSON without validating all of it."""
    channel = document["serving_channel"]
    return Score(
        as_of=date.fromisoformat(document["as_of"]),
        points=Decimal(document["points"]),
        standard_premium=Decimal(document["standard_premium"]),
        serving_channel=Channel(channel) if channel is not None else None,
        trigger=document["trigger"],
    )


def _tier(value: str | None) -> Tier | None:
    return Tier(value) if value is not None else None


def _decision(row: Any) -> TierDecision:
    return TierDecision(
        tier=_tier(row.tier),
        computed_tier=_tier(row.computed_tier),
        honorary_tier=_tier(row.honorary_tier),
        previous_tier=_tier(row.previous_tier),
        standard=Standard(row.standard),
        points=Decimal(row.points),
        vip_since=row.vip_since,
        effective_at=row.effective_at,
        serving_channel=Channel(row.serving_channel) if row.serving_channel is not None else None,
        trigger=row.trigger,
        ruleset_version=row.ruleset_version,
        reason=row.reason,
    )


def _stored(row: Any, shown: TierDecision | None) -> StoredCustomer:
    honorary = (
        Honorary(tier=Tier(row.honorary_tier), expires_on=row.honorary_expires_on)
        if row.honorary_tier is not None
        else None
    )
    state = CustomerTiering(
        score=_score_in(row.score) if row.score is not None else None,
        score_revision=row.score_revision,
        legacy=LegacyStanding(
            vip_before_cutover=row.legacy_vip_before_cutover,
            on_roster=row.legacy_on_roster,
            roster_since=row.legacy_roster_since,
            fell_below_after_cutover=row.legacy_fell_below,
        ),
        honorary=honorary,
        shown=shown,
    )
    return StoredCustomer(customer_id=row.customer_id, state=state, revision=row.revision, document=row.score)


class CustomerRepository:
    """Customers' tiering state, with an identity map for the transaction.

    A customer is locked (its row created first if it was never seen) and loaded once per
    transaction; `save` updates the map and buffers the row, and `flush` writes every saved customer
    in one statement. Locks are taken in customer-id order, so transactions locking overlapping sets
    of customers (a batch, the daily run, an HTTP command) cannot deadlock on them.
    """

    def __init__(self, connection: AsyncConnection) -> None:
        self._connection = connection
        self._locked: dict[str, StoredCustomer] = {}
        self._dirty: dict[str, tuple[StoredCustomer, CustomerScored | None]] = {}

    async def known(self, customer_id: str) -> bool:
        if customer_id in self._locked:
            return True
        found = await self._connection.scalar(
            select(customers.c.customer_id).where(customers.c.customer_id == customer_id)
        )
        return found is not None

    async def lock_many(self, customer_ids: Iterable[str]) -> None:
        """Lock and load the customers for this transaction in three statements, in customer-id order."""
        wanted = sorted(set(customer_ids) - set(self._locked))
        if not wanted:
            return
        await self._connection.execute(bulk.NEW_CUSTOMERS, {"customer_ids": wanted})
        rows = (await self._connection.execute(bulk.LOCK_CUSTOMERS, {"customer_ids": wanted})).all()
        decided = [row.customer_id for row in rows if row.revision > 0]
        shown: dict[str, TierDecision] = {}
        if decided:
            for decision in await self._connection.execute(bulk.SHOWN_DECISIONS, {"customer_ids": decided}):
                shown[decision.customer_id] = _decision(decision)
        for row in rows:
            self._locked[row.customer_id] = _stored(row, shown.get(row.customer_id))

    async def lock(self, customer_id: str) -> StoredCustomer:
        """The customer's state, locked for this transaction; a customer never seen starts empty.

        Served from the transaction's identity map once loaded: what an earlier event of the same
        transaction saved is what a later one sees.
        """
        if customer_id not in self._locked:
            await self.lock_many([customer_id])
        return self._locked[customer_id]

    async def save(
        self, customer_id: str, *, state: CustomerTiering, scored: CustomerScored | None, revision: int
    ) -> None:
        if customer_id not in self._locked:
            raise RuntimeError(f"saving {customer_id} without holding the customer's lock")
        stored = StoredCustomer(customer_id=customer_id, state=state, revision=revision, parsed=scored)
        self._locked[customer_id] = stored
        self._dirty[customer_id] = (stored, scored)

    async def flush(self) -> None:
        """Write every customer saved since the last flush, in one statement."""
        if not self._dirty:
            return
        rows = [_row(stored, scored) for stored, scored in self._dirty.values()]
        self._dirty.clear()
        await self._connection.execute(bulk.SAVE_CUSTOMERS, bulk.as_arrays(rows, bulk.CUSTOMER_COLUMNS))

    async def due_on_or_before(self, as_of: date, *, limit: int) -> list[str]:
        """Customers the daily run for `as_of` has something to do for, found through the index."""
        await self.flush()
        rows = await self._connection.execute(
            select(customers.c.customer_id)
            .where(customers.c.next_due_on <= as_of)
            .order_by(customers.c.next_due_on, customers.c.customer_id)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        return list(rows.scalars())


def _row(stored: StoredCustomer, scored: CustomerScored | None) -> dict[str, Any]:
    state = stored.state
    shown = state.shown
    return {
        "customer_id": stored.customer_id,
        "score_revision": state.score_revision,
        "score": scored.model_dump_json() if scored is not None else None,
        "legacy_vip_before_cutover": state.legacy.vip_before_cutover,
        "legacy_on_roster": state.legacy.on_roster,
        "legacy_roster_since": state.legacy.roster_since,
        "legacy_fell_below": state.legacy.fell_below_after_cutover,
        "standard": shown.standard.value if shown is not None else None,
        "tier": shown.tier.value if shown is not None and shown.tier is not None else None,
        "honorary_tier": state.honorary.tier.value if state.honorary is not None else None,
        "honorary_expires_on": state.honorary.expires_on if state.honorary is not None else None,
        "next_due_on": state.due_on,
        "revision": stored.revision,
    }


def _value(member: Enum | None) -> Any:
    return member.value if member is not None else None


class TierDecisionRepository:
    """The history of decisions: recorded in memory, inserted in one statement by `flush`."""

    def __init__(self, connection: AsyncConnection) -> None:
        self._connection = connection
        self._recorded: list[dict[str, Any]] = []

    async def record(
        self, customer_id: str, *, revision: int, event_id: str, correlation_id: str, decision: TierDecision
    ) -> None:
        self._recorded.append(
            {
                "customer_id": customer_id,
                "revision": revision,
                "event_id": event_id,
                "correlation_id": correlation_id,
                "tier": _value(decision.tier),
                "computed_tier": _value(decision.computed_tier),
                "honorary_tier": _value(decision.honorary_tier),
                "previous_tier": _value(decision.previous_tier),
                "standard": decision.standard.value,
                "points": decision.points,
                "vip_since": decision.vip_since,
                "effective_at": decision.effective_at,
                "serving_channel": _value(decision.serving_channel),
                "trigger": decision.trigger,
                "ruleset_version": decision.ruleset_version,
                "reason": decision.reason,
            }
        )

    async def flush(self) -> None:
        if not self._recorded:
            return
        rows, self._recorded = self._recorded, []
        await self._connection.execute(bulk.RECORD_DECISIONS, bulk.as_arrays(rows, bulk.DECISION_COLUMNS))

    async def history(self, customer_id: str) -> list[TierDecision]:
        """Every decision for the customer, newest first."""
        await self.flush()
        rows = await self._connection.execute(
            select(tier_decisions)
            .where(tier_decisions.c.customer_id == customer_id)
            .order_by(tier_decisions.c.revision.desc())
        )
        return [_decision(row) for row in rows]


class TieringUnitOfWork(UnitOfWork):
    def __init__(self, connection: AsyncConnection, *, ruleset: Ruleset) -> None:
        super().__init__(connection)
        self.ruleset = ruleset
        self.customers = CustomerRepository(connection)
        self.decisions = TierDecisionRepository(connection)
        self.honorary = HonoraryRepository(connection)

    async def prepare(self, events: Sequence[Any]) -> None:
        """Lock and load every customer the batch's events are about, in a handful of statements."""
        await self.customers.lock_many(
            event.customer_id for event in events if isinstance(event, CustomerScored | LegacyVipImported)
        )

    async def flush(self) -> None:
        await self.customers.flush()
        await self.decisions.flush()
