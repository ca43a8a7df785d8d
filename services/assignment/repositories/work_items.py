"""Work items, one aggregate each, changed per customer in sets.

Handlers buffer what a batch does to items (`add`, `cancel_pending`) and `flush` writes it in three
statements whatever the batch's size, after the customers are written: the cancellations, the new
items (`ON CONFLICT` on (customer, occasion_key): generating twice adds nothing; an item not done
generated again is reopened with the new dates), then every pending item of the customers this transaction touched
takes their current representative (`follow`): open items move with the customer whoever changed
the representative. An HTTP completion locks the item (advisory lock "assignment-work-item") and
reads it before changing it. Reads: the representative's work list through the partial index
`ix_work_items_work_list` (agent, due date) and a customer's items of a year.
"""

from collections.abc import Mapping, Sequence
from datetime import date, timedelta
from typing import Any, Literal

from sqlalchemy import Boolean, Select, and_, func, literal_column, select, text, update
from sqlalchemy.ext.asyncio import AsyncConnection

from services.assignment.domain.duties import PENDING, ItemState, NewItem, WorkItem
from services.assignment.tables import PENDING_ITEM, customers, work_items
from shared.locks import lock_keys
from shared.ruleset import ContactChannel, Duty
from shared.sql import any_of, insert_rows_text, row_of, rows_json

View = Literal["this_week", "overdue", "pending"]
_PENDING_STATES = [state.value for state in PENDING]


def item_of(row: Mapping[Any, Any]) -> WorkItem:
    return WorkItem(
        item_id=row["item_id"], customer_id=row["customer_id"], duty=Duty(row["duty"]), occasion=row["occasion"],
        opens_on=row["opens_on"], due_on=row["due_on"],
        channels=frozenset(ContactChannel(channel) for channel in row["channels"]), agent_id=row["agent_id"],
        state=ItemState(row["state"]), done_on=row["done_on"],
        done_channel=ContactChannel(row["done_channel"]) if row["done_channel"] else None,
        done_by_agent=row["done_by_agent"], note=row["note"],
    )


def row_of_new_item(item: NewItem) -> dict[str, Any]:
    row = row_of(item)
    row["duty"] = item.duty.value
    row["channels"] = sorted(channel.value for channel in item.channels)
    row["year"] = item.year
    return row


_ITEM_COLUMNS = (
    "customer_id", "duty", "occasion", "occasion_key", "year", "opens_on", "due_on", "channels", "agent_id"
)
_INSERT_ITEMS = text(
    insert_rows_text(work_items, _ITEM_COLUMNS)
    + " ON CONFLICT (customer_id, occasion_key) DO UPDATE SET state = 'open', occasion = excluded.occasion, "
    "opens_on = excluded.opens_on, due_on = excluded.due_on, year = excluded.year, agent_id = excluded.agent_id, "
    "updated_at = now() "
    "WHERE work_items.state <> 'done'"
)
"""The batch's new items in one statement, in the order given (so `item_id` order is that order), each
with its customer's representative as the transaction leaves them. An occasion generated again (a VIP
again, a birthday corrected) reopens with its new dates and representative; one already done stays as
it was done. One statement, not one execution per row: a new VIP brings up to seven items,
and a row-by-row `executemany` cost each row an executor start in PostgreSQL and a parameter pass in
the driver (docs/performance.md, "Before and after the one shape")."""
_CANCEL = (
    update(work_items)
    .where(any_of(work_items.c.customer_id, "customer_ids"), work_items.c.state.in_(_PENDING_STATES))
    .values(state=ItemState.CANCELLED.value, updated_at=func.now())
)
_FOLLOW_MOVED = text(
    "UPDATE work_items AS w SET agent_id = moved.agent_id, updated_at = now() "
    "FROM unnest(CAST(:customer_ids AS text[]), CAST(:agent_ids AS text[])) AS moved(customer_id, agent_id) "
    "WHERE w.customer_id = moved.customer_id AND w.state IN ('open', 'overdue') "
    "AND w.agent_id IS DISTINCT FROM moved.agent_id"
)
"""The pending items of the customers whose representative this transaction changed follow them. The
new representatives come from memory (the unit of work's customers), not from a join with
`customers`: only the moved customers are visited, whatever the batch's size (a join over every
customer of the batch cost 4 s of PostgreSQL's CPU per 20,000 new VIPs in the pipeline bench, its plan
made while the tables were small)."""
_FOLLOW = text(
    "UPDATE work_items AS w SET agent_id = c.representative_id, updated_at = now() FROM customers AS c "
    "WHERE c.customer_id = w.customer_id AND w.customer_id = ANY(:customer_ids) "
    "AND c.customer_id = ANY(:customer_ids) "
    "AND w.state IN ('open', 'overdue') AND w.agent_id IS DISTINCT FROM c.representative_id"
)
"""The customers side is bounded by the same keys as the items side: PostgreSQL does not carry the
condition across the join, and without it joined the batch's items against every customer (a sequential
scan per batch, 3.5 s of the server's CPU for 20,000 new VIPs)."""


class WorkItemRepository:
    def __init__(self, connection: AsyncConnection) -> None:
        self._connection = connection
        self._added: dict[tuple[str, str], NewItem] = {}
        self._cancelled: set[str] = set()
        self._touched: set[str] = set()
        """Customers of new items the transaction does not hold: their items follow the stored representative."""
        self._moved: dict[str, str | None] = {}
        self._representatives: Mapping[str, str | None] = {}

    def follow(self, *, moved: Mapping[str, str | None], representatives: Mapping[str, str | None]) -> None:
        """Before `flush`: the customers whose representative changed, to their new one (their pending
        items follow), and every held customer's representative (new items are written with it)."""
        self._moved.update(moved)
        self._representatives = representatives

    def add(self, items: Sequence[NewItem]) -> None:
        """Items to generate (the caller holds the customers' locks); an occasion already stored stays."""
        for item in items:
            self._added[(item.customer_id, item.occasion_key)] = item

    def cancel_pending(self, customer_id: str) -> None:
        """The customer stopped being VIP: every item still to be done is cancelled (those generated
        earlier in this batch too)."""
        self._added = {key: item for key, item in self._added.items() if key[0] != customer_id}
        self._cancelled.add(customer_id)

    async def flush(self) -> None:
        """Cancellations, the new items (with their customer's representative), then the items of moved
        customers follow: one statement each. A new item whose customer is not held here is written
        without one and follows the stored representative (`_FOLLOW`)."""
        if self._cancelled:
            await self._connection.execute(_CANCEL, {"customer_ids": sorted(self._cancelled)})
            self._cancelled.clear()
        if self._added:
            rows = []
            for _, item in sorted(self._added.items()):
                rows.append(row_of_new_item(item) | {"agent_id": self._representatives.get(item.customer_id)})
                if item.customer_id not in self._representatives:
                    self._touched.add(item.customer_id)
            self._added.clear()
            await self._connection.execute(_INSERT_ITEMS, {"rows": rows_json(rows)})
        if self._moved:
            moved, self._moved = sorted(self._moved.items()), {}
            await self._connection.execute(
                _FOLLOW_MOVED, {"customer_ids": [key for key, _ in moved], "agent_ids": [agent for _, agent in moved]}
            )
        if self._touched:
            await self._connection.execute(_FOLLOW, {"customer_ids": sorted(self._touched)})
            self._touched.clear()

    async def lock_item(self, item_id: int) -> WorkItem | None:
        """The item under its lock (an HTTP completion); None if there is no such item."""
        await lock_keys(self._connection, scope="assignment-work-item", keys=[str(item_id)])
        row = (await self._connection.execute(select(work_items).where(work_items.c.item_id == item_id))).first()
        return item_of(row._mapping) if row is not None else None

    async def save_completion(self, item: WorkItem, *, by_user: str) -> None:
        """The caller holds the item's lock and checked the completion (`domain.duties.check_completion`)."""
        await self._connection.execute(
            update(work_items)
            .where(work_items.c.item_id == item.item_id)
            .values(
                state=item.state.value, done_on=item.done_on,
                done_channel=item.done_channel.value if item.done_channel else None,
                done_by_agent=item.done_by_agent, done_by_user=by_user, note=item.note, updated_at=func.now(),
            )
        )

    async def of_occasion(self, customer_id: str, occasion_key: str) -> WorkItem | None:
        await self.flush()
        row = (
            await self._connection.execute(
                select(work_items).where(
                    work_items.c.customer_id == customer_id, work_items.c.occasion_key == occasion_key
                )
            )
        ).first()
        return item_of(row._mapping) if row is not None else None

    async def of_customer(self, customer_id: str, *, year: int) -> list[WorkItem]:
        statement = (
            select(work_items)
            .where(work_items.c.customer_id == customer_id, work_items.c.year == year)
            .order_by(work_items.c.due_on, work_items.c.item_id)
        )
        return [item_of(row._mapping) for row in (await self._connection.execute(statement)).all()]

    async def work_list(
        self, agent_id: str, *, view: View, as_of: date, limit: int, offset: int
    ) -> list[WorkItem]:
        statement = work_list_statement(agent_id, view=view, as_of=as_of, limit=limit, offset=offset)
        return [item_of(row._mapping) for row in (await self._connection.execute(statement)).all()]


def work_list_statement(agent_id: str, *, view: View, as_of: date, limit: int, offset: int) -> Select[Any]:
    """The representative's items still to be done, by due date: due from `as_of` to the week's Sunday
    (`this_week`), due before `as_of` (`overdue`), or all (`pending`). One range scan of the partial
    index `ix_work_items_work_list` (agent, due date, item), in its order, stopped by the limit: the
    cost follows the page, not the table. The state condition is the index's own predicate written as
    a constant, so that a prepared statement's generic plan (parameters unknown) still proves the
    partial index usable."""
    conditions = [work_items.c.agent_id == agent_id, literal_column(PENDING_ITEM.text, Boolean)]
    if view == "this_week":
        sunday = as_of + timedelta(days=6 - as_of.weekday())
        conditions += [work_items.c.due_on >= as_of, work_items.c.due_on <= sunday]
    elif view == "overdue":
        conditions.append(work_items.c.due_on < as_of)
    return (
        select(work_items)
        .where(and_(*conditions))
        .order_by(work_items.c.due_on, work_items.c.item_id)
        .limit(limit)
        .offset(offset)
    )


async def is_customer_known(connection: AsyncConnection, customer_id: str) -> bool:
    found = await connection.execute(select(customers.c.customer_id).where(customers.c.customer_id == customer_id))
    return found.first() is not None
