"""Assignment applies a batch in a handful of statements and ends exactly where event by event does.

Drives `process()` directly against the real embedded PostgreSQL: no broker, no HTTP.
"""

import asyncio
import random
import uuid
from collections.abc import AsyncIterator, Sequence
from datetime import date, timedelta
from decimal import Decimal
from functools import partial
from typing import Any

import pytest
from sqlalchemy import Table, event, select

from bench.assignment_alone import NOW, agent_setup, incoming, synthetic_events
from cli.postgres import EmbeddedPostgres, ExternalPostgres
from services.assignment import consumers
from services.assignment.config import AssignmentSettings
from services.assignment.main import MIGRATIONS_DIR
from services.assignment.repositories import AssignmentUnitOfWork
from services.assignment.tables import agents, contacts, customers, representative_history
from shared.db import Transactions, create_engine
from shared.events.inbound import AgentDisqualified, AgentProfile, AgentUpserted, CustomerContacted
from shared.events.internal import PolicyContribution, TierDecided
from shared.events.values import AgentRole, Channel, Standard, Tier
from shared.messaging_tables import OUTBOX
from shared.migrations import upgrade_to_head
from shared.processing import Incoming, Outcome, process
from shared.ruleset import load_ruleset
from shared.settings import DEFAULT_RULESET_PATH

Db = Transactions[AssignmentUnitOfWork]


async def _open(postgres: EmbeddedPostgres | ExternalPostgres) -> Db:
    name = f"t_{uuid.uuid4().hex[:12]}"
    await postgres.create_databases([name])
    db: Db = Transactions(
        engine=create_engine(settings=AssignmentSettings(database_url=postgres.database_url(name))),
        make_unit_of_work=partial(AssignmentUnitOfWork, ruleset=load_ruleset(DEFAULT_RULESET_PATH)),
    )
    await upgrade_to_head(engine=db.engine, migrations_dir=MIGRATIONS_DIR)
    return db


@pytest.fixture
async def databases(postgres: EmbeddedPostgres | ExternalPostgres) -> AsyncIterator[tuple[Db, Db]]:
    first, second = await _open(postgres), await _open(postgres)
    yield first, second
    await first.engine.dispose()
    await second.engine.dispose()


async def apply(db: Db, batch: Sequence[Incoming]) -> Outcome:
    handlers = {name: handler for route in consumers.routes() for name, handler in route.handlers.items()}
    return await process(transactions=db, batch=batch, handler_for=lambda item: handlers.get(item.event_type))


async def apply_in_batches(db: Db, items: Sequence[Incoming], size: int) -> int:
    stale = 0
    for start in range(0, len(items), size):
        stale += len((await apply(db, items[start : start + size])).stale)
    return stale


async def _rows(db: Db, table: Table, *order: Any, leave_out: frozenset[str] = frozenset()) -> list[dict[str, Any]]:
    async with db.engine.connect() as connection:
        rows = await connection.execute(select(table).order_by(*order))
    return [{key: value for key, value in row._mapping.items() if key not in leave_out} for row in rows]


async def state(db: Db) -> dict[str, list[dict[str, Any]]]:
    """Everything assignment stores and publishes, without what differs between two identical runs."""
    moments = frozenset({"updated_at", "recorded_at", "id", "created_at", "published_at"})
    return {
        "customers": await _rows(db, customers, customers.c.customer_id, leave_out=moments),
        "agents": await _rows(db, agents, agents.c.agent_id, leave_out=moments),
        "contacts": await _rows(db, contacts, contacts.c.customer_id, contacts.c.agent_id, contacts.c.contacted_at),
        "history": await _rows(
            db, representative_history, representative_history.c.customer_id, representative_history.c.id,
            leave_out=moments,
        ),
        "outbox": [
            {"topic": row["topic"], "key": row["key"], "event_id": row["event_id"], "payload": row["payload"]}
            for row in await _rows(db, OUTBOX, OUTBOX.c.key, OUTBOX.c.id)
        ],
    }


def _disqualified(agent_id: str, sequence: int) -> AgentDisqualified:
    return AgentDisqualified(
        event_id=f"test-dq-{sequence}", occurred_at=NOW + timedelta(days=1, seconds=sequence),
        event_type="agent_disqualified", agent_id=agent_id, reason="withheld a customer's gift",
    )


async def test_a_batch_ends_exactly_where_event_by_event_does(databases: tuple[Db, Db]) -> None:
    batched, one_by_one = databases
    setup = incoming(agent_setup(random.Random(3)))
    stream = synthetic_events(400)
    represented = sorted(
        {agent_id for event in stream if isinstance(event, TierDecided) and (agent_id := event.policies[0].agent_id)}
    )
    stream += [_disqualified(agent_id, number) for number, agent_id in enumerate(represented[:4])]
    items = incoming(stream)
    for db in databases:
        await apply_in_batches(db, setup, 1000)
    statements = 0

    def count(*_: Any) -> None:
        nonlocal statements
        statements += 1

    event.listen(batched.engine.sync_engine, "before_cursor_execute", count)
    stale_batched = await apply_in_batches(batched, items, 200)
    event.remove(batched.engine.sync_engine, "before_cursor_execute", count)
    stale_one_by_one = await apply_in_batches(one_by_one, items, 1)

    expected = await state(one_by_one)
    assert await state(batched) == expected
    assert stale_batched == stale_one_by_one > 0
    assert len(expected["outbox"]) > 100
    assert any(row["basis"] == "top_performer_pool" for row in expected["customers"])
    assert statements < 40 * 3, f"{statements} statements for {len(items)} events in 3 batches"


def _tier(customer_id: str, revision: int, tier: Tier | None, agent_id: str, *, event_id: str) -> TierDecided:
    return TierDecided(
        event_id=event_id, occurred_at=NOW + timedelta(minutes=revision), correlation_id=event_id,
        customer_id=customer_id, revision=revision, tier=tier, previous_tier=None, computed_tier=tier,
        honorary_tier=None, standard=Standard.Y2015, points=Decimal(0), vip_since=None,
        effective_at=date(2026, 9, 1 + revision), serving_channel=Channel.AGENCY, trigger="new_business",
        ruleset_version="test", reason="test decision",
        policies=(
            PolicyContribution(
                policy_no=f"P-{customer_id}", channel=Channel.AGENCY, branch="GD-SZ", agent_id=agent_id,
                issued_on=date(2026, 9, 1), points=Decimal(50_000), standard_premium=Decimal(50_000),
                state="counted", explanation="",
            ),
        ),
    )


async def test_one_customer_several_times_in_one_batch_and_the_batch_again(databases: tuple[Db, Db]) -> None:
    db, _ = databases
    profile = AgentProfile(
        agent_id="AG1", name="Li", channel=Channel.AGENCY, branch="GD-SZ", role=AgentRole.AGENT,
        top_performer=False, eligible=True,
    )
    batch = incoming([
        AgentUpserted(event_id="e-profile", occurred_at=NOW, event_type="agent_upserted", agent=profile),
        _tier("C1", 1, Tier.GOLD, "AG1", event_id="e-1"),
        _tier("C1", 1, Tier.GOLD, "AG1", event_id="e-1-again"),  # the same revision under another id: stale
        CustomerContacted(
            event_id="e-contact", occurred_at=NOW, event_type="customer_contacted", agent_id="AG1",
            customer_id="C1", contacted_at=NOW,
        ),
        _tier("C1", 2, None, "AG1", event_id="e-2"),
        _tier("C1", 3, Tier.PLATINUM, "AG1", event_id="e-3"),
    ])

    outcome = await apply(db, batch)

    assert [item.event_id for item in outcome.stale] == ["e-1-again"]
    stored = await state(db)
    published = [row for row in stored["outbox"] if row["key"] == "C1"]
    assert len(published) == 3
    (customer,) = stored["customers"]
    assert (customer["representative_id"], customer["revision"], customer["tier_revision"]) == ("AG1", 3, 3)
    assert [(row["revision"], row["agent_id"]) for row in stored["history"]] == [(1, "AG1"), (2, None), (3, "AG1")]
    assert [row["load"] for row in stored["agents"]] == [1]
    assert len(stored["contacts"]) == 1

    again = await apply(db, batch)
    assert len(again.duplicates) == len(batch)
    assert await state(db) == stored


async def test_a_batch_waits_for_another_transaction_holding_one_of_its_customers(databases: tuple[Db, Db]) -> None:
    db, _ = databases
    batch = incoming([_tier("C7", 1, Tier.GOLD, "AG7", event_id="e-7")])
    async with db.begin() as holder:
        await holder.customers.lock(["C7"])
        waiting = asyncio.create_task(apply(db, batch))
        await asyncio.sleep(0.5)
        assert not waiting.done()
    outcome = await asyncio.wait_for(waiting, timeout=10)
    assert [item.event_id for item in outcome.applied] == ["e-7"]
    (customer,) = (await state(db))["customers"]
    assert customer["tier"] == "gold"
