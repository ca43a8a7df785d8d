"""Scoring applies a batch in a handful of statements and ends exactly as event by event.

Drives `process()` directly against the real embedded PostgreSQL: no broker, no HTTP. The proof that
the repositories (identity maps, advisory locks, bulk loads) agree with the fakes of `fakes.py`.
"""

from collections.abc import AsyncIterator, Sequence
from functools import partial
from typing import Any

import orjson
import pytest
from sqlalchemy import event, select

from services.scoring import consumers
from services.scoring.config import ScoringSettings
from services.scoring.main import MIGRATIONS_DIR
from services.scoring.repositories import ScoringUnitOfWork
from services.scoring.tables import customers, stale_policy_events
from shared.db import Transactions, create_engine
from shared.events.inbound import POLICY_EVENT_ADAPTER
from shared.messaging_tables import OUTBOX
from shared.migrations import upgrade_to_head
from shared.processing import Incoming, Outcome, process
from shared.ruleset import load_ruleset
from shared.settings import DEFAULT_RULESET_PATH
from shared.topics import POLICY_EVENTS
from tests.builders.policies import policy_event
from tests.support import fresh_id

Db = Transactions[ScoringUnitOfWork]


@pytest.fixture
async def transactions(database_url: str) -> AsyncIterator[Db]:
    db: Db = Transactions(
        engine=create_engine(settings=ScoringSettings(database_url=database_url)),
        make_unit_of_work=partial(ScoringUnitOfWork, ruleset=load_ruleset(DEFAULT_RULESET_PATH)),
    )
    await upgrade_to_head(engine=db.engine, migrations_dir=MIGRATIONS_DIR)
    yield db
    await db.engine.dispose()


def incoming(events: Sequence[dict[str, Any]]) -> list[Incoming]:
    return [
        Incoming(POLICY_EVENTS, 0, offset, None, None, POLICY_EVENT_ADAPTER.validate_python(item))
        for offset, item in enumerate(events)
    ]


async def apply(db: Db, batch: list[Incoming]) -> Outcome:
    [route] = consumers.routes()
    return await process(transactions=db, batch=batch, handler_for=lambda item: route.handlers.get(item.event_type))


def story(old: str, new: str) -> list[dict[str, Any]]:
    """Two policies bought, one moved to another holder, a stale surrender, a premium raised."""
    first, second = f"{old}-1", f"{old}-2"
    return [
        policy_event(policy_no=first, holder_id=old),
        policy_event(policy_no=second, holder_id=old, modal_premium="1000.00"),
        policy_event(
            policy_no=first, holder_id=new, version=2, event_type="policyholder_change", previous_holder_id=old
        ),
        policy_event(policy_no=first, holder_id=old, version=1, event_type="surrender", status="surrendered"),
        policy_event(
            policy_no=second, holder_id=old, version=2, event_type="additional_premium", modal_premium="2000.00"
        ),
    ]


async def scores_of(db: Db, *customer_ids: str) -> list[tuple[str, int, str, str]]:
    """(customer, revision, trigger, points) of every CustomerScored in the outbox, in order."""
    async with db.engine.connect() as connection:
        rows = await connection.execute(select(OUTBOX.c.payload).order_by(OUTBOX.c.id))
    bodies = [orjson.loads(payload) for payload in rows.scalars()]
    return [
        (body["customer_id"], body["revision"], body["trigger"], body["points"])
        for body in bodies
        if body["customer_id"] in customer_ids
    ]


async def test_a_batch_ends_as_event_by_event(transactions: Db) -> None:
    together_old, together_new, alone_old, alone_new = (fresh_id("C") for _ in range(4))
    one_batch = await apply(transactions, incoming(story(together_old, together_new)))
    one_by_one = [await apply(transactions, incoming([item])) for item in story(alone_old, alone_new)]

    assert (len(one_batch.applied), len(one_batch.stale), one_batch.published) == (4, 1, 5)
    assert [outcome.published for outcome in one_by_one] == [1, 1, 2, 0, 1]
    names = {together_old: "old", together_new: "new", alone_old: "old", alone_new: "new"}
    mine = [(names[c], *rest) for c, *rest in await scores_of(transactions, together_old, together_new)]
    theirs = [(names[c], *rest) for c, *rest in await scores_of(transactions, alone_old, alone_new)]
    assert mine == theirs == [
        ("old", 1, "new_business", "36000.00"),
        ("old", 2, "new_business", "37000.00"),
        ("new", 1, "policyholder_change", "36000.00"),
        ("old", 3, "policyholder_change", "1000.00"),
        ("old", 4, "additional_premium", "2000.00"),
    ]
    async with transactions.engine.connect() as connection:
        stored = {
            row.customer_id: (row.revision, row.points, [policy["policy_no"] for policy in row.policies])
            for row in await connection.execute(select(customers))
        }
        stale = (await connection.execute(select(stale_policy_events.c.policy_no))).scalars().all()
    assert stored[together_old][:2] == stored[alone_old][:2] and stored[together_old][2] == [f"{together_old}-2"]
    assert stored[together_new][2] == [f"{together_old}-1"]
    assert sorted(stale) == sorted([f"{together_old}-1", f"{alone_old}-1"])


async def test_a_batch_takes_the_same_handful_of_statements_whatever_its_size(transactions: Db) -> None:
    statements: list[str] = []
    event.listen(transactions.engine.sync_engine, "before_cursor_execute", lambda *args: statements.append(args[2]))
    counts = []
    for size in (5, 50):
        holders = [fresh_id("C") for _ in range(size)]
        statements.clear()
        await apply(transactions, incoming([policy_event(policy_no=f"{c}-1", holder_id=c) for c in holders]))
        counts.append(len(statements))

    assert counts[0] == counts[1], statements
    assert counts[1] <= 15, statements
