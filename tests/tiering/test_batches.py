"""Tiering applies a batch in a handful of statements and behaves exactly as event by event.

Drives `process()` directly against the real embedded PostgreSQL: no broker, no HTTP.
"""

import asyncio
import uuid
from collections.abc import AsyncIterator, Sequence
from datetime import date, datetime
from functools import partial
from typing import Any

import pytest
from sqlalchemy import event, select

from services.tiering import consumers
from services.tiering.domain.customers import Honorary
from services.tiering.main import MIGRATIONS_DIR
from services.tiering.repositories import TieringUnitOfWork
from services.tiering.tables import customers, tier_decisions
from services.tiering.workflows.customers import set_honorary
from shared.db import Transactions, create_engine
from shared.events.inbound import CUSTOMER_EVENT_ADAPTER
from shared.events.internal import InternalEvent
from shared.events.values import Tier
from shared.migrations import upgrade_to_head
from shared.processing import Incoming, Outcome, process
from shared.ruleset import load_ruleset
from shared.settings import DEFAULT_RULESET_PATH
from shared.topics import CUSTOMER_EVENTS, CUSTOMER_SCORES
from tests.builders.scores import CHINA, roster_entry, scored
from tests.support import fresh_id

Db = Transactions[TieringUnitOfWork]


@pytest.fixture
async def transactions(database_url: str) -> AsyncIterator[Db]:
    from services.tiering.config import TieringSettings

    db: Db = Transactions(
        engine=create_engine(settings=TieringSettings(database_url=database_url)),
        make_unit_of_work=partial(TieringUnitOfWork, ruleset=load_ruleset(DEFAULT_RULESET_PATH)),
    )
    await upgrade_to_head(engine=db.engine, migrations_dir=MIGRATIONS_DIR)
    yield db
    await db.engine.dispose()


def incoming(events: Sequence[Any]) -> list[Incoming]:
    return [
        Incoming(
            topic=CUSTOMER_SCORES if isinstance(item, InternalEvent) else CUSTOMER_EVENTS,
            partition=0,
            offset=offset,
            key=None,
            value=None,
            event=item if isinstance(item, InternalEvent) else CUSTOMER_EVENT_ADAPTER.validate_python(item),
        )
        for offset, item in enumerate(events)
    ]


async def apply(db: Db, batch: list[Incoming]) -> Outcome:
    handlers = {name: handler for route in consumers.routes() for name, handler in route.handlers.items()}
    return await process(transactions=db, batch=batch, handler_for=lambda item: handlers.get(item.event_type))


async def published(db: Db) -> list[dict[str, Any]]:
    """Every TierDecided in the outbox, in order, without what differs between two identical runs."""
    async with db.engine.connect() as connection:
        rows = await connection.execute(
            select(tier_decisions).order_by(tier_decisions.c.customer_id, tier_decisions.c.revision)
        )
        decisions = [dict(row._mapping) for row in rows]
    return [
        {key: value for key, value in decision.items() if key not in {"event_id", "decided_at", "correlation_id"}}
        for decision in decisions
    ]


def customer_story(customer: str) -> list[Any]:
    """One customer's scores, out of order and redelivered, and a roster entry, as one batch."""
    return [
        scored(customer, revision=1, points="12000.00", standard_premium="25000.00", as_of=date(2015, 7, 1)),
        scored(customer, revision=3, points="80000.00", standard_premium="60000.00", as_of=date(2015, 11, 1)),
        scored(customer, revision=2, points="10.00", as_of=date(2015, 10, 20), trigger="surrender"),
        roster_entry(customer, since="2011-03-01"),
        scored(customer, revision=3, points="10.00", as_of=date(2015, 11, 2), trigger="lapse"),
        scored(customer, revision=4, points="29999.99", standard_premium="21000.00", as_of=date(2015, 12, 1)),
    ]


async def test_a_customer_several_times_in_one_batch_ends_as_event_by_event(transactions: Db) -> None:
    together, alone = fresh_id("C"), fresh_id("C")
    one_batch = await apply(transactions, incoming(customer_story(together)))
    one_by_one = [await apply(transactions, incoming([item])) for item in customer_story(alone)]

    assert (len(one_batch.applied), len(one_batch.stale)) == (4, 2)
    assert [len(outcome.stale) for outcome in one_by_one] == [0, 0, 1, 0, 1, 0]
    assert [outcome.published for outcome in one_by_one] == [1, 1, 0, 1, 0, 1]
    assert one_batch.published == 4
    decisions = await published(transactions)
    mine = [{**d, "customer_id": "X"} for d in decisions if d["customer_id"] == together]
    theirs = [{**d, "customer_id": "X"} for d in decisions if d["customer_id"] == alone]
    assert mine == theirs
    assert [(d["revision"], d["tier"], d["trigger"], d["vip_since"]) for d in mine] == [
        (1, "gold", "new_business", date(2015, 7, 1)),
        (2, "platinum", "new_business", date(2015, 7, 1)),
        (3, "platinum", "legacy_vip_imported", date(2011, 3, 1)),
        (4, "gold", "new_business", date(2011, 3, 1)),
    ]
    async with transactions.engine.connect() as connection:
        rows = (await connection.execute(select(customers).where(customers.c.customer_id.in_([together, alone])))).all()
    states = [
        {k: v for k, v in row._mapping.items() if k not in {"customer_id", "updated_at", "score"}} for row in rows
    ]
    assert states[0] == states[1]
    assert states[0]["score_revision"] == 4 and states[0]["legacy_on_roster"] is True


async def test_a_redelivered_batch_changes_nothing(transactions: Db) -> None:
    customer = fresh_id("C")
    batch = incoming([scored(customer, revision=1, points="36000.00"), scored(customer, revision=2, points="80000.00")])
    first = await apply(transactions, batch)
    before = await published(transactions)
    again = await apply(transactions, batch)

    assert (len(first.applied), first.published) == (2, 2)
    assert (len(again.duplicates), len(again.applied), again.published) == (2, 0, 0)
    assert await published(transactions) == before


async def test_a_batch_takes_the_same_handful_of_statements_whatever_its_size(transactions: Db) -> None:
    statements: list[str] = []
    event.listen(transactions.engine.sync_engine, "before_cursor_execute", lambda *args: statements.append(args[2]))
    seen = [fresh_id("C") for _ in range(5)]
    await apply(transactions, incoming([scored(c, revision=1, points="36000.00") for c in seen]))
    counts = []
    for round_, size in enumerate((5, 50)):
        new = [fresh_id("C") for _ in range(size)]
        statements.clear()
        outcome = await apply(
            transactions,
            incoming(
                [
                    scored(customer, revision=revision, points=f"{30000 + revision}.00")
                    for customer in (*seen, *new)
                    for revision in (2 * round_ + 2, 2 * round_ + 3)
                ]
            ),
        )
        assert outcome.published == 2 * (len(seen) + size)
        counts.append(len(statements))
        seen = [*seen, *new]

    # inbox, create the new customers, lock, their last decisions, save, record decisions, outbox
    assert counts == [7, 7]


async def test_a_batch_waits_for_a_concurrent_writer_and_sees_what_it_committed(transactions: Db) -> None:
    customer = fresh_id("C")
    await apply(transactions, incoming([scored(customer, revision=1, points="10000.00")]))
    async with transactions.begin() as uow:
        await uow.customers.lock([customer])
        waiting = asyncio.create_task(apply(transactions, incoming([scored(customer, revision=2, points="36000.00")])))
        await asyncio.sleep(0.5)
        assert not waiting.done(), "the batch did not wait for the customer's lock"
        uow.publish(
            await set_honorary(
                uow,
                customer_id=customer,
                honorary=Honorary(tier=Tier.DIAMOND),
                as_of=date(2026, 3, 17),
                cause_id=uuid.uuid4().hex,
                occurred_at=datetime(2026, 3, 17, 9, tzinfo=CHINA),
            )
        )
    outcome = await waiting
    decisions = [d for d in await published(transactions) if d["customer_id"] == customer]

    assert (len(outcome.applied), outcome.published) == (1, 1)
    assert [(d["revision"], d["tier"], d["computed_tier"], d["honorary_tier"]) for d in decisions] == [
        (1, None, None, None),
        (2, "diamond", None, "diamond"),
        (3, "diamond", "gold", "diamond"),
    ]
