"""Entitlements applies a batch in a handful of statements and behaves exactly as event by event;
the call-center look-up's fast path answers what the repository holds.

Drives `process()` directly against the real embedded PostgreSQL: no broker, no HTTP.
"""

import asyncio
import uuid
from collections.abc import AsyncIterator, Sequence
from datetime import UTC, date, datetime
from functools import partial
from typing import Any

import orjson
import pytest
from sqlalchemy import event, select

from services.entitlements import consumers
from services.entitlements.api.customers import customer_view
from services.entitlements.config import EntitlementsSettings
from services.entitlements.main import MIGRATIONS_DIR
from services.entitlements.repositories import EntitlementsUnitOfWork
from services.entitlements.repositories.lookup import CustomerLookup
from services.entitlements.tables import customers, periods, tier_changes
from shared.db import Transactions, create_engine
from shared.events.internal import Representative, RepresentativeChanged
from shared.events.values import Channel, Tier
from shared.failures import is_transient
from shared.group_ruleset import load_group_ruleset
from shared.migrations import upgrade_to_head
from shared.processing import Incoming, Outcome, process
from shared.ruleset import load_ruleset
from shared.settings import DEFAULT_GROUP_RULESET_PATH, DEFAULT_RULESET_PATH
from tests.builders.decisions import tier_decided
from tests.support import fresh_id

Db = Transactions[EntitlementsUnitOfWork]
DAY = date(2026, 3, 16)


@pytest.fixture
async def transactions(database_url: str) -> AsyncIterator[Db]:
    db: Db = Transactions(
        engine=create_engine(settings=EntitlementsSettings(database_url=database_url)),
        make_unit_of_work=partial(
            EntitlementsUnitOfWork, ruleset=load_ruleset(DEFAULT_RULESET_PATH),
            group_ruleset=load_group_ruleset(DEFAULT_GROUP_RULESET_PATH),
        ),
    )
    await upgrade_to_head(engine=db.engine, migrations_dir=MIGRATIONS_DIR)
    yield db
    await db.engine.dispose()


def incoming(events: Sequence[Any]) -> list[Incoming]:
    return [Incoming(item.topic, 0, offset, None, None, item) for offset, item in enumerate(events)]


async def apply(db: Db, batch: list[Incoming]) -> Outcome:
    handlers = {name: handler for route in consumers.routes() for name, handler in route.handlers.items()}
    return await process(transactions=db, batch=batch, handler_for=lambda item: handlers.get(item.event_type))


def representative_changed(customer: str, *, revision: int, agent_id: str | None) -> RepresentativeChanged:
    return RepresentativeChanged(
        event_id=uuid.uuid4().hex,
        occurred_at=datetime.now(UTC),
        correlation_id=uuid.uuid4().hex,
        customer_id=customer,
        revision=revision,
        representative=Representative(agent_id=agent_id, name=f"Agent {agent_id}", channel=Channel.AGENCY)
        if agent_id
        else None,
        reason="test",
        effective_at=DAY,
    )


def customer_story(customer: str) -> list[Any]:
    """Becoming gold, a representative, a rise (the period is replaced), a stale redelivery, a fall,
    the representative leaving, a stale representative: every handler path, for one customer."""
    return [
        tier_decided(customer, revision=1, tier=Tier.GOLD, effective_at=DAY, points="40000.00"),
        representative_changed(customer, revision=1, agent_id="A1"),
        tier_decided(customer, revision=2, tier=Tier.DIAMOND, effective_at=date(2026, 4, 1), points="300000.00"),
        tier_decided(customer, revision=1, tier=Tier.GOLD, effective_at=DAY, points="40000.00"),
        tier_decided(customer, revision=3, tier=Tier.PLATINUM, effective_at=date(2026, 5, 1), points="90000.00"),
        representative_changed(customer, revision=2, agent_id=None),
        representative_changed(customer, revision=1, agent_id="A9"),
    ]


async def stored(db: Db, customer: str) -> dict[str, Any]:
    """What the customer left in every table, without what differs between two customers."""
    async with db.engine.connect() as connection:
        row = (await connection.execute(select(customers).where(customers.c.customer_id == customer))).one()
        changes = await connection.execute(
            select(tier_changes.c.revision, tier_changes.c.effective_on, tier_changes.c.tier)
            .where(tier_changes.c.customer_id == customer)
            .order_by(tier_changes.c.revision)
        )
        opened = await connection.execute(
            select(periods.c.tier, periods.c.start_on, periods.c.end_on, periods.c.state, periods.c.opened_by)
            .where(periods.c.customer_id == customer)
            .order_by(periods.c.period_id)
        )
        return {
            "customer": {k: v for k, v in row._mapping.items() if k not in {"customer_id", "updated_at"}},
            "tier_changes": [tuple(r) for r in changes],
            "periods": [tuple(r) for r in opened],
        }


async def test_a_customer_several_times_in_one_batch_ends_as_event_by_event(transactions: Db) -> None:
    together, alone = fresh_id("C"), fresh_id("C")
    one_batch = await apply(transactions, incoming(customer_story(together)))
    one_by_one = [await apply(transactions, incoming([item])) for item in customer_story(alone)]

    assert (len(one_batch.applied), len(one_batch.stale)) == (5, 2)
    assert [len(outcome.stale) for outcome in one_by_one] == [0, 0, 0, 1, 0, 0, 1]
    mine, theirs = await stored(transactions, together), await stored(transactions, alone)
    assert mine == theirs
    assert (mine["customer"]["tier"], mine["customer"]["tier_revision"]) == ("platinum", 3)
    assert (mine["customer"]["representative_revision"], mine["customer"]["representative"]) == (2, None)
    assert mine["tier_changes"] == [
        (1, DAY, "gold"),
        (2, date(2026, 4, 1), "diamond"),
        (3, date(2026, 5, 1), "platinum"),
    ]
    assert mine["periods"] == [
        ("gold", DAY, date(2027, 3, 15), "replaced", "tier_decided"),
        ("diamond", date(2026, 4, 1), date(2027, 3, 31), "open", "tier_decided"),
    ]


async def test_a_period_opened_by_an_earlier_batch_is_replaced_by_a_later_one(transactions: Db) -> None:
    customer = fresh_id("C")
    await apply(transactions, incoming([tier_decided(customer, revision=1, tier=Tier.GOLD, effective_at=DAY)]))
    await apply(
        transactions,
        incoming([
            tier_decided(customer, revision=2, tier=Tier.PLATINUM, effective_at=date(2026, 4, 1)),
            tier_decided(customer, revision=3, tier=Tier.DIAMOND, effective_at=date(2026, 5, 1)),
        ]),
    )

    assert [(p[0], p[3]) for p in (await stored(transactions, customer))["periods"]] == [
        ("gold", "replaced"),
        ("platinum", "replaced"),
        ("diamond", "open"),
    ]


async def test_a_redelivered_batch_changes_nothing(transactions: Db) -> None:
    customer = fresh_id("C")
    batch = incoming(customer_story(customer))
    first = await apply(transactions, batch)
    before = await stored(transactions, customer)
    again = await apply(transactions, batch)

    assert len(first.applied) == 5
    assert (len(again.duplicates), len(again.applied), len(again.stale)) == (7, 0, 0)
    assert await stored(transactions, customer) == before


async def test_a_batch_takes_the_same_handful_of_statements_whatever_its_size(transactions: Db) -> None:
    statements: list[str] = []
    event.listen(transactions.engine.sync_engine, "before_cursor_execute", lambda *args: statements.append(args[2]))
    counts = []
    for size in (3, 40):
        batch = [item for _ in range(size) for item in customer_story(fresh_id("C"))]
        statements.clear()
        outcome = await apply(transactions, incoming(batch))
        assert (len(outcome.applied), len(outcome.stale)) == (5 * size, 2 * size)
        counts.append(len(statements))

    # inbox (one per topic), lock the customers, read them, their open periods, save the
    # customers, record tier changes, write the new periods (none existed to close)
    assert counts == [8, 8]


async def test_a_batch_waits_for_a_redemption_holding_the_customer(transactions: Db) -> None:
    customer = fresh_id("C")
    await apply(transactions, incoming([tier_decided(customer, revision=1, tier=Tier.GOLD, effective_at=DAY)]))
    async with transactions.begin() as uow:
        await uow.customers.lock([customer])
        waiting = asyncio.create_task(
            apply(transactions, incoming([tier_decided(customer, revision=2, tier=Tier.DIAMOND, effective_at=DAY)]))
        )
        await asyncio.sleep(0.5)
        assert not waiting.done(), "the batch did not wait for the customer's lock"
    outcome = await waiting

    assert len(outcome.applied) == 1
    assert (await stored(transactions, customer))["customer"]["tier"] == "diamond"


async def test_the_look_up_answers_what_the_repository_holds(transactions: Db, database_url: str) -> None:
    vip, fallen, unrepresented = fresh_id("C"), fresh_id("C"), fresh_id("C")
    await apply(
        transactions,
        incoming([
            *customer_story(vip),
            tier_decided(fallen, revision=1, tier=Tier.GOLD, honorary_tier=Tier.GOLD, points="0.50"),
            representative_changed(fallen, revision=1, agent_id="A2"),
            tier_decided(fallen, revision=2, tier=None, points="12.30"),
            tier_decided(unrepresented, revision=1, tier=Tier.DIAMOND, points="1234567.89"),
        ]),
    )
    lookup = CustomerLookup(settings=EntitlementsSettings(database_url=database_url))
    await lookup.open()
    try:
        bodies = {customer: await lookup.customer_view(customer) for customer in (vip, fallen, unrepresented)}
        unknown = await lookup.customer_view(fresh_id("C"))
    finally:
        await lookup.close()
    async with transactions.read() as uow:
        expected = {customer: customer_view(await uow.customers.get(customer)) for customer in bodies}  # type: ignore[arg-type]

    assert unknown is None
    assert {customer: orjson.loads(body or b"") for customer, body in bodies.items()} == expected
    assert expected[fallen]["tier"] is None and expected[fallen]["points"] == "12.30"
    assert expected[fallen]["representative"] == {"agent_id": "A2", "name": "Agent A2", "channel": "agency"}
    assert expected[vip]["representative"] is None


async def test_the_look_up_fails_fast_and_transiently_without_a_database(tmp_path: Any) -> None:
    away = f"postgresql+asyncpg://postgres@/nowhere?host={tmp_path}"
    lookup = CustomerLookup(settings=EntitlementsSettings(database_url=away, db_connect_timeout_s=1.0))
    await lookup.open()
    started = asyncio.get_running_loop().time()
    try:
        with pytest.raises(Exception) as raised:
            await lookup.customer_view("C1")
    finally:
        await lookup.close()

    assert is_transient(raised.value), repr(raised.value)
    assert asyncio.get_running_loop().time() - started < 3
