"""Tiering's statements, and the unit of work that carries them through one transaction."""

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncConnection

from services.tiering.domain import CustomerTiering, Honorary, LegacyStanding, Score, TierDecision
from services.tiering.honorary_repository import HonoraryRepository
from services.tiering.tables import customers, tier_decisions
from shared.db import UnitOfWork
from shared.events.internal import CUSTOMER_SCORED_ADAPTER, CustomerScored
from shared.events.values import Channel, Standard, Tier
from shared.ruleset import Ruleset


@dataclass(frozen=True, slots=True)
class StoredCustomer:
    customer_id: str
    state: CustomerTiering
    scored: CustomerScored | None
    """The last score applied, whole: its policies go out with every decision."""
    revision: int
    """Of the last TierDecided published for the customer."""


def score_of(event: CustomerScored) -> Score:
    return Score(
        as_of=event.as_of,
        points=event.points,
        standard_premium=event.standard_premium,
        serving_channel=event.serving_channel,
        trigger=event.trigger,
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


class CustomerRepository:
    def __init__(self, connection: AsyncConnection) -> None:
        self._connection = connection

    async def known(self, customer_id: str) -> bool:
        found = await self._connection.scalar(
            select(customers.c.customer_id).where(customers.c.customer_id == customer_id)
        )
        return found is not None

    async def lock(self, customer_id: str) -> StoredCustomer:
        """The customer's state, locked for this transaction; a customer never seen starts empty."""
        await self._connection.execute(
            insert(customers)
            .values(
                customer_id=customer_id,
                score_revision=0,
                legacy_vip_before_cutover=False,
                legacy_on_roster=False,
                legacy_fell_below=False,
                revision=0,
            )
            .on_conflict_do_nothing(index_elements=[customers.c.customer_id])
        )
        row = (
            await self._connection.execute(
                select(customers).where(customers.c.customer_id == customer_id).with_for_update()
            )
        ).one()
        shown = None
        if row.revision > 0:
            decided = (
                await self._connection.execute(
                    select(tier_decisions).where(
                        tier_decisions.c.customer_id == customer_id, tier_decisions.c.revision == row.revision
                    )
                )
            ).one()
            shown = _decision(decided)
        scored = CUSTOMER_SCORED_ADAPTER.validate_python(row.score) if row.score is not None else None
        honorary = (
            Honorary(tier=Tier(row.honorary_tier), expires_on=row.honorary_expires_on)
            if row.honorary_tier is not None
            else None
        )
        state = CustomerTiering(
            score=score_of(scored) if scored is not None else None,
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
        return StoredCustomer(customer_id=customer_id, state=state, scored=scored, revision=row.revision)

    async def save(
        self, customer_id: str, *, state: CustomerTiering, scored: CustomerScored | None, revision: int
    ) -> None:
        shown = state.shown
        await self._connection.execute(
            update(customers)
            .where(customers.c.customer_id == customer_id)
            .values(
                score_revision=state.score_revision,
                score=scored.model_dump(mode="json") if scored is not None else None,
                legacy_vip_before_cutover=state.legacy.vip_before_cutover,
                legacy_on_roster=state.legacy.on_roster,
                legacy_roster_since=state.legacy.roster_since,
                legacy_fell_below=state.legacy.fell_below_after_cutover,
                standard=shown.standard.value if shown is not None else None,
                tier=shown.tier.value if shown is not None and shown.tier is not None else None,
                honorary_tier=state.honorary.tier.value if state.honorary is not None else None,
                honorary_expires_on=state.honorary.expires_on if state.honorary is not None else None,
                next_due_on=state.due_on,
                revision=revision,
                updated_at=func.now(),
            )
        )

    async def due_on_or_before(self, as_of: date, *, limit: int) -> list[str]:
        """Customers the daily run for `as_of` has something to do for, found through the index."""
        rows = await self._connection.execute(
            select(customers.c.customer_id)
            .where(customers.c.next_due_on <= as_of)
            .order_by(customers.c.next_due_on, customers.c.customer_id)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        return list(rows.scalars())


class TierDecisionRepository:
    def __init__(self, connection: AsyncConnection) -> None:
        self._connection = connection

    async def record(
        self, customer_id: str, *, revision: int, event_id: str, correlation_id: str, decision: TierDecision
    ) -> None:
        await self._connection.execute(
            insert(tier_decisions).values(
                customer_id=customer_id,
                revision=revision,
                event_id=event_id,
                correlation_id=correlation_id,
                tier=decision.tier.value if decision.tier is not None else None,
                computed_tier=decision.computed_tier.value if decision.computed_tier is not None else None,
                honorary_tier=decision.honorary_tier.value if decision.honorary_tier is not None else None,
                previous_tier=decision.previous_tier.value if decision.previous_tier is not None else None,
                standard=decision.standard.value,
                points=decision.points,
                vip_since=decision.vip_since,
                effective_at=decision.effective_at,
                serving_channel=decision.serving_channel.value if decision.serving_channel is not None else None,
                trigger=decision.trigger,
                ruleset_version=decision.ruleset_version,
                reason=decision.reason,
            )
        )

    async def history(self, customer_id: str) -> list[TierDecision]:
        """Every decision for the customer, newest first."""
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
