"""Customers' scores as last determined and published: one row of `customers` per customer.

Every path that re-scores a customer (a policy event, the daily run) first takes the customer's
advisory lock ("scoring-customer", `lock`, in customer-id order), and only then reads the policies
the customer holds: two transactions can never both score a customer from policies the other is
changing and publish the older picture last. The revision is counted here, not by the database:
under the lock no other transaction writes the customer before this one commits.

The identity map reads only what re-scoring needs of a customer (`ScoringMark`: the revision to
follow, the date not to go back before), never the per-policy breakdown document, which a re-score
replaces whole: a batch's customers load without their JSON. The whole row is read for the API
(`published`), outside the map.
"""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, fields
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import Date, Select, String, literal, select, tuple_
from sqlalchemy.ext.asyncio import AsyncConnection

from services.scoring.domain.customers import CustomerScore
from services.scoring.mapping import policy_score_document
from services.scoring.tables import customers
from shared.identity_map import IdentityMap


@dataclass(frozen=True, slots=True)
class StoredCustomer:
    """One row of `customers` (every column but `updated_at`, which the database keeps)."""

    customer_id: str
    revision: int
    points: Decimal
    standard_premium: Decimal
    pending_points: Decimal
    serving_channel: str | None
    next_pending_date: date | None
    scored_as_of: date
    trigger: str
    ruleset_version: str
    policies: tuple[dict[str, Any], ...]
    """Each policy's score document (`mapping.policy_score_document`), as published."""
    legacy_standard_premium_before_cutover: Decimal | None
    """None when the customer held no policy on the day before cutover."""


@dataclass(frozen=True, slots=True)
class ScoringMark:
    """What re-scoring reads of the last score: the revision it follows and the date it never goes
    back before."""

    customer_id: str
    revision: int
    scored_as_of: date


_COLUMNS = tuple(column.name for column in customers.columns if column.server_default is None)
if tuple(field.name for field in fields(StoredCustomer)) != _COLUMNS:
    raise AssertionError("StoredCustomer must name the columns of `customers`, in their order")
_MARK_COLUMNS = tuple(field.name for field in fields(ScoringMark))


def _stored_of(row: Mapping[str, Any]) -> StoredCustomer:
    values = {name: row[name] for name in _COLUMNS}
    return StoredCustomer(**values | {"policies": tuple(row["policies"])})


def _mark_of(row: Mapping[str, Any]) -> ScoringMark:
    return ScoringMark(**{name: row[name] for name in _MARK_COLUMNS})


def _row_of(stored: ScoringMark | StoredCustomer) -> dict[str, Any]:
    if not isinstance(stored, StoredCustomer):
        raise TypeError(f"customer {stored.customer_id}: only a whole score is saved")
    row = {name: getattr(stored, name) for name in _COLUMNS}
    return row | {"policies": list(stored.policies)}


class CustomerRepository:
    def __init__(self, connection: AsyncConnection) -> None:
        self._connection = connection
        self._map = IdentityMap[ScoringMark | StoredCustomer](
            connection,
            table=customers,
            key="customer_id",
            lock_scope="scoring-customer",
            value_of=_mark_of,
            row_of=_row_of,
            read_columns=_MARK_COLUMNS,
        )

    async def lock(self, customer_ids: Iterable[str]) -> None:
        """Serialise re-scoring per customer until the transaction ends (and load the customers)."""
        await self._map.lock(customer_ids)

    async def get(self, customer_id: str) -> ScoringMark | None:
        """The last score's mark (from the map: what this transaction saved, else the database)."""
        value = await self._map.get(customer_id)
        if isinstance(value, StoredCustomer):
            return ScoringMark(customer_id=value.customer_id, revision=value.revision, scored_as_of=value.scored_as_of)
        return value

    async def published(self, customer_id: str) -> StoredCustomer | None:
        """The whole score last published (committed), for reading."""
        row = (await self._connection.execute(select(customers).where(customers.c.customer_id == customer_id))).first()
        return _stored_of({column.name: row._mapping[column] for column in customers.columns}) if row else None

    async def save_score(
        self, customer_id: str, score: CustomerScore, *, as_of: date, trigger: str, ruleset_version: str
    ) -> int:
        """Store the score (written at `flush`); returns the customer's new revision."""
        current = await self._map.get(customer_id)
        revision = current.revision + 1 if current else 1
        stored = StoredCustomer(
            customer_id=customer_id,
            revision=revision,
            points=score.points,
            standard_premium=score.standard_premium,
            pending_points=score.pending_points,
            serving_channel=score.serving_channel.value if score.serving_channel else None,
            next_pending_date=score.next_pending_date,
            scored_as_of=as_of,
            trigger=trigger,
            ruleset_version=ruleset_version,
            policies=tuple(policy_score_document(policy) for policy in score.policies),
            legacy_standard_premium_before_cutover=score.legacy_standard_premium_before_cutover,
        )
        self._map.save(customer_id, stored)
        return revision

    async def flush(self) -> None:
        await self._map.flush()

    async def due(self, *, as_of: date, after: str, limit: int) -> tuple[list[str], str]:
        """The next `limit` customers whose pending points count on or before `as_of`, after the cursor
        `after` (empty: from the start), and the cursor of the last one ("" when none)."""
        rows = (await self._connection.execute(due_statement(as_of=as_of, after=after, limit=limit))).all()
        last = f"{rows[-1].next_pending_date.isoformat()}{_CURSOR_SEPARATOR}{rows[-1].customer_id}" if rows else ""
        return [row.customer_id for row in rows], last


_CURSOR_SEPARATOR = "|"


def due_statement(*, as_of: date, after: str, limit: int) -> Select[tuple[date, str]]:
    """Due customers in `(next_pending_date, customer_id)` order, the order of their composite index, so
    the index both filters and orders (no sort of every due customer per chunk). `after` is the
    opaque cursor `due` returned: `DATE|CUSTOMER_ID`. A re-scored customer's date moves past the run's
    date, so the keyset never meets a row twice."""
    statement = select(customers.c.next_pending_date, customers.c.customer_id).where(
        customers.c.next_pending_date <= as_of
    )
    if after:
        day, customer_id = after.split(_CURSOR_SEPARATOR, 1)
        statement = statement.where(
            tuple_(customers.c.next_pending_date, customers.c.customer_id)
            > tuple_(literal(date.fromisoformat(day), Date()), literal(customer_id, String()))
        )
    return statement.order_by(customers.c.next_pending_date, customers.c.customer_id).limit(limit)
