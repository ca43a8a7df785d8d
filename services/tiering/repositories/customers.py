"""Customers' tiering state on the transaction's identity map, locked by advisory lock.

A customer is locked (advisory lock, scope `tiering-customer`, in customer-id order) and loaded once
per transaction: one statement to lock the whole set, one to load the customers, one for the last
decision of those that have one. A customer never seen is locked the same way and starts empty; its
row is created by the `flush` upsert, with every other customer saved in the transaction. Locks in
key order mean transactions locking overlapping sets of customers (a batch, the daily run, an HTTP
command) cannot deadlock on them.
"""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from services.tiering.domain.customers import CustomerTiering, Honorary
from services.tiering.domain.tiers import LegacyStanding, TierDecision
from services.tiering.mapping import score_in, scored_document, scored_in
from services.tiering.repositories.decisions import TierDecisionRepository
from services.tiering.tables import customers
from shared.events.internal import CustomerScored
from shared.events.values import Channel, Tier
from shared.identity_map import IdentityMap

LOCK_SCOPE = "tiering-customer"


@dataclass(frozen=True, slots=True)
class StoredCustomer:
    customer_id: str
    state: CustomerTiering
    revision: int
    """Of the last TierDecided published for the customer; 0 before the first."""
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
            object.__setattr__(self, "parsed", scored_in(self.document))
        return self.parsed


def _stored(row: Mapping[str, Any]) -> StoredCustomer:
    """The customer as stored; `state.shown` is filled from the decisions by the repository."""
    honorary = (
        Honorary(
            tier=Tier(row["honorary_tier"]),
            expires_on=row["honorary_expires_on"],
            channel=Channel(row["honorary_channel"]) if row["honorary_channel"] is not None else None,
            branch=row["honorary_branch"],
        )
        if row["honorary_tier"] is not None
        else None
    )
    document = row["score"]
    state = CustomerTiering(
        score=score_in(document) if document is not None else None,
        score_revision=row["score_revision"],
        legacy=LegacyStanding(
            vip_before_cutover=row["legacy_vip_before_cutover"],
            on_roster=row["legacy_on_roster"],
            roster_since=row["legacy_roster_since"],
            fell_below_after_cutover=row["legacy_fell_below"],
        ),
        honorary=honorary,
        crm_branch=row["crm_branch"],
    )
    return StoredCustomer(customer_id=row["customer_id"], state=state, revision=row["revision"], document=document)


def _channel_value(channel: Channel | None) -> str | None:
    return channel.value if channel is not None else None


def _row(stored: StoredCustomer) -> dict[str, Any]:
    state = stored.state
    shown = state.shown
    document = scored_document(stored.parsed) if stored.parsed is not None else stored.document
    return {
        "customer_id": stored.customer_id,
        "score_revision": state.score_revision,
        "score": document,
        "legacy_vip_before_cutover": state.legacy.vip_before_cutover,
        "legacy_on_roster": state.legacy.on_roster,
        "legacy_roster_since": state.legacy.roster_since,
        "legacy_fell_below": state.legacy.fell_below_after_cutover,
        "standard": shown.standard.value if shown is not None else None,
        "tier": shown.tier.value if shown is not None and shown.tier is not None else None,
        "honorary_tier": state.honorary.tier.value if state.honorary is not None else None,
        "honorary_expires_on": state.honorary.expires_on if state.honorary is not None else None,
        "honorary_channel": _channel_value(state.honorary.channel) if state.honorary is not None else None,
        "honorary_branch": state.honorary.branch if state.honorary is not None else None,
        "crm_branch": state.crm_branch,
        "next_due_on": state.due_on,
        "revision": stored.revision,
    }


class CustomerRepository:
    def __init__(self, connection: AsyncConnection, *, decisions: TierDecisionRepository) -> None:
        self._connection = connection
        self._decisions = decisions
        self._map: IdentityMap[StoredCustomer] = IdentityMap(
            connection,
            table=customers,
            key="customer_id",
            lock_scope=LOCK_SCOPE,
            value_of=_stored,
            row_of=_row,
        )
        self._shown: dict[str, TierDecision | None] = {}
        """The last decision of each locked customer, kept current by `save_customer`."""

    async def lock(self, customer_ids: Iterable[str]) -> None:
        """Lock and load the customers not locked yet in this transaction, with their last decisions."""
        if isinstance(customer_ids, str):
            raise TypeError("lock takes a collection of customer ids, not one id")
        wanted = sorted({key for key in customer_ids if key not in self._shown})  # no copy of every key shown
        if not wanted:
            return
        await self._map.lock(wanted)
        decided = [key for key in wanted if (stored := self._map.loaded(key)) is not None and stored.revision > 0]
        shown = await self._decisions.shown(decided)
        for key in wanted:
            self._shown[key] = shown.get(key)

    async def get(self, customer_id: str) -> StoredCustomer:
        """The customer's state; it must be locked. A customer never seen starts empty.

        What an earlier event of the same transaction saved is what a later one sees.
        """
        if customer_id not in self._shown:
            raise RuntimeError(f"reading customer {customer_id} without holding its lock")
        stored = self._map.loaded(customer_id)
        if stored is None:
            return StoredCustomer(customer_id=customer_id, state=CustomerTiering(), revision=0)
        return replace(stored, state=replace(stored.state, shown=self._shown[customer_id]))

    def save_customer(
        self, customer_id: str, *, state: CustomerTiering, scored: CustomerScored | None, revision: int
    ) -> None:
        """Replace the customer's state (written at `flush`); `scored` is the last score applied, whole."""
        stored = StoredCustomer(customer_id=customer_id, state=state, revision=revision, parsed=scored)
        self._map.save(customer_id, stored)
        self._shown[customer_id] = state.shown

    async def flush(self) -> None:
        await self._map.flush()

    async def known(self, customer_id: str) -> bool:
        """Whether tiering has stored the customer (read path: no lock)."""
        found = await self._connection.scalar(
            select(customers.c.customer_id).where(customers.c.customer_id == customer_id)
        )
        return found is not None

    async def due(self, *, as_of: date, after: str, limit: int) -> list[str]:
        """Customers the daily run for `as_of` has something to do for, after `after` in id order (not locked)."""
        rows = await self._connection.execute(
            select(customers.c.customer_id)
            .where(customers.c.next_due_on <= as_of, customers.c.customer_id > after)
            .order_by(customers.c.customer_id)
            .limit(limit)
        )
        return list(rows.scalars())
