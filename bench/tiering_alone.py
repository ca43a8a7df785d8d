"""How fast tiering applies `CustomerScored` on its own: `process()` over batches, no broker, no HTTP.

    python bench/tiering_alone.py --events 5000 --batch 500

Uses an embedded PostgreSQL in a temporary directory. The events are what scoring publishes: about
60% first scores of new customers, the rest re-scores of customers seen before (often in the same
batch, with rising revisions), points spread over every tier and below, one to three policies each,
and about 2% stale redeliveries (a revision already applied, under a new event id).
"""

import random
import time
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from functools import partial

from bench.harness import apply_in_batches, run_alone
from cli.postgres import EmbeddedPostgres
from services.tiering import consumers
from services.tiering.config import TieringSettings
from services.tiering.main import MIGRATIONS_DIR
from services.tiering.repositories import TieringUnitOfWork
from shared.db import Transactions, create_engine
from shared.events.internal import CUSTOMER_SCORED_ADAPTER, CustomerScored, PolicyContribution
from shared.group_ruleset import load_group_ruleset
from shared.migrations import upgrade_to_head
from shared.processing import Incoming
from shared.ruleset import load_ruleset
from shared.topics import CUSTOMER_SCORES

CHINA = timezone(timedelta(hours=8))
CHANNELS = ("agency", "bancassurance", "brokerage", "ecommerce")
POINTS = (5_000, 25_000, 40_000, 60_000, 90_000, 180_000, 260_000, 400_000)


def _scored(rng: random.Random, *, run: str, index: int, customer: int, revision: int) -> CustomerScored:
    as_of = date(2026, 9, 1) + timedelta(days=index // 500)
    policies = []
    for number in range(rng.randint(1, 3)):
        points = Decimal(rng.choice(POINTS) + rng.randint(0, 3_000)) / rng.randint(1, 3)
        policies.append(
            PolicyContribution(
                policy_no=f"T{run}P{customer:07d}-{number}",
                channel=rng.choice(CHANNELS),
                branch=rng.choice(("GD-SZ", "BJ-HD", "SH-PD")),
                agent_id=f"A{rng.randint(1, 500):05d}",
                issued_on=as_of - timedelta(days=30),
                points=points.quantize(Decimal("0.01")),
                standard_premium=points.quantize(Decimal("0.01")),
                state="counted",
                explanation="participating, 10 years: 1 x annualised premium",
            )
        )
    total = sum((policy.points for policy in policies), Decimal("0.00"))
    return CustomerScored(
        event_id=f"tbench-{run}-{index}",
        occurred_at=datetime(as_of.year, as_of.month, as_of.day, 10, tzinfo=CHINA),
        correlation_id=f"pas-{run}-{index}",
        customer_id=f"T{run}C{customer:07d}",
        revision=revision,
        as_of=as_of,
        trigger=rng.choice(("new_business", "premium_paid", "top_up", "rider_added")),
        ruleset_version="individual-2015.1",
        points=total,
        standard_premium=total,
        pending_points=Decimal("0.00"),
        serving_channel=policies[0].channel,
        policies=tuple(policies),
    )


def synthetic_scores(count: int, *, run: str) -> list[tuple[bytes, bytes]]:
    """`count` CustomerScored messages (key, value) as tiering reads them from the score topic."""
    rng = random.Random(8_000)
    revisions: list[int] = []
    messages = []
    for index in range(count):
        roll = rng.random()
        if not revisions or roll < 0.6:
            customer, revision = len(revisions), 1
            revisions.append(1)
        elif roll < 0.98:
            customer = rng.randrange(max(0, len(revisions) - 300), len(revisions))
            revisions[customer] += 1
            revision = revisions[customer]
        else:
            customer = rng.randrange(len(revisions))
            revision = rng.randint(1, revisions[customer])
        event = _scored(rng, run=run, index=index, customer=customer, revision=revision)
        messages.append((event.customer_id.encode(), event.model_dump_json().encode()))
    return messages


async def main(events: int, batch_size: int, postgres: EmbeddedPostgres) -> None:
    await postgres.create_databases(["bench_tiering"])
    settings = TieringSettings(database_url=postgres.database_url("bench_tiering"))
    ruleset = load_ruleset(settings.ruleset_path)
    transactions = Transactions(
        engine=create_engine(settings=settings),
        make_unit_of_work=partial(
            TieringUnitOfWork, ruleset=ruleset, group_ruleset=load_group_ruleset(settings.group_ruleset_path)
        ),
    )
    await upgrade_to_head(engine=transactions.engine, migrations_dir=MIGRATIONS_DIR)
    handlers = consumers.routes()[0].handlers
    items = [
        Incoming(CUSTOMER_SCORES, 0, offset, key, value, CUSTOMER_SCORED_ADAPTER.validate_json(value))
        for offset, (key, value) in enumerate(synthetic_scores(events, run="S"))
    ]
    started, cpu_started = time.perf_counter(), time.process_time()
    outcome = await apply_in_batches(transactions=transactions, items=items, handlers=handlers, batch_size=batch_size)
    applied, stale, published = len(outcome.applied), len(outcome.stale), outcome.published
    elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu_started
    await transactions.engine.dispose()
    print(f"applied={applied} stale={stale} published={published}")
    print(
        f"tiering_alone_events_per_s={events / elapsed:.0f} ms_per_event={elapsed / events * 1000:.3f}"
        f" service_cpu_ms_per_event={cpu / events * 1000:.3f}"
    )


if __name__ == "__main__":
    run_alone(main, description=__doc__, events=5000)
