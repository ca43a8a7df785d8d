"""How fast entitlements applies events on its own: `process()` over batches, no broker, no HTTP.

    python bench/entitlements_alone.py --events 6000 --batch 500

Uses an embedded PostgreSQL in a temporary directory. The input mimics what tiering and assignment
publish: for each customer a `TierDecided` (becoming VIP: a period opens), a `RepresentativeChanged`,
an upgrade (the period is replaced), a downgrade (nothing opens), and now and then a redelivered
older revision (stale) or a representative leaving. A customer's events stay in order, interleaved
with other customers' events, so one batch often holds several events of the same customer.
"""

import itertools
import random
import time
from collections.abc import Sequence
from datetime import UTC, date, datetime
from decimal import Decimal
from functools import partial
from typing import Any

from bench.harness import apply_in_batches, interleave, run_alone
from cli.postgres import EmbeddedPostgres
from services.entitlements import consumers
from services.entitlements.config import EntitlementsSettings
from services.entitlements.main import MIGRATIONS_DIR
from services.entitlements.repositories import EntitlementsUnitOfWork
from shared.db import Transactions, create_engine
from shared.events.internal import (
    InternalEvent,
    PolicyContribution,
    Representative,
    RepresentativeChanged,
    TierDecided,
)
from shared.events.values import Channel, Standard, Tier
from shared.migrations import upgrade_to_head
from shared.processing import Incoming

TIERS = [Tier.GOLD, Tier.PLATINUM, Tier.DIAMOND]
CHANNELS = [Channel.AGENCY, Channel.BANCASSURANCE, Channel.BROKERAGE, Channel.ECOMMERCE]
BRANCHES = ["GD-SZ", "BJ-HD", "SH-PD"]
NOW = datetime(2026, 9, 20, 2, 0, tzinfo=UTC)


def _tier_decided(
    rng: random.Random, customer_id: str, *, revision: int, tier: Tier | None, previous: Tier | None, sequence: int
) -> TierDecided:
    channel = rng.choice(CHANNELS)
    points = Decimal(rng.randint(30_000, 400_000))
    policies = tuple(
        PolicyContribution(
            policy_no=f"{customer_id}P{index}",
            channel=rng.choice([channel, *CHANNELS]),
            branch=rng.choice(BRANCHES),
            agent_id=f"A{rng.randint(1, 500):05d}",
            issued_on=date(2026, 9, 1),
            points=points / 2,
            standard_premium=points / 2,
            state="counted",
            explanation="1 x N",
        )
        for index in range(rng.randint(1, 3))
    )
    return TierDecided(
        event_id=f"bench-td-{sequence}",
        occurred_at=NOW,
        correlation_id=f"bench-c-{sequence}",
        customer_id=customer_id,
        revision=revision,
        tier=tier,
        previous_tier=previous,
        computed_tier=tier,
        honorary_tier=None,
        standard=Standard.Y2015,
        points=points,
        vip_since=date(2026, 9, 1) if tier else None,
        effective_at=date(2026, 9, 1 + revision),
        serving_channel=channel,
        trigger="new_business",
        ruleset_version="individual-2015.1",
        reason="bench",
        policies=policies,
    )


def _representative_changed(
    rng: random.Random, customer_id: str, revision: int, sequence: int, *, leaves: bool = False
) -> RepresentativeChanged:
    agent = f"A{rng.randint(1, 500):05d}"
    representative = Representative(agent_id=agent, name=f"Agent {agent}", channel=Channel.AGENCY)
    return RepresentativeChanged(
        event_id=f"bench-rc-{sequence}",
        occurred_at=NOW,
        correlation_id=f"bench-c-{sequence}",
        customer_id=customer_id,
        revision=revision,
        representative=None if leaves else representative,
        reason="bench",
        effective_at=date(2026, 9, 2),
    )


def synthetic_events(count: int, *, seed: int = 8) -> list[InternalEvent]:
    """About `count` events, four to six per customer, each customer's in order, customers interleaved."""
    rng = random.Random(seed)
    sequence = itertools.count()
    streams: list[list[InternalEvent]] = []
    produced = 0
    while produced < count:
        customer_id = f"BC{len(streams):07d}"
        first, upper = rng.choice(TIERS[:2]), TIERS[2]
        stream: list[InternalEvent] = [
            _tier_decided(rng, customer_id, revision=1, tier=first, previous=None, sequence=next(sequence)),
            _representative_changed(rng, customer_id, 1, next(sequence)),
            _tier_decided(rng, customer_id, revision=2, tier=upper, previous=first, sequence=next(sequence)),
        ]
        if rng.random() < 0.3:  # a redelivered older revision: stale
            stream.append(
                _tier_decided(rng, customer_id, revision=1, tier=Tier.GOLD, previous=None, sequence=next(sequence))
            )
        stream.append(_tier_decided(rng, customer_id, revision=3, tier=first, previous=upper, sequence=next(sequence)))
        if rng.random() < 0.3:
            stream.append(_representative_changed(rng, customer_id, 2, next(sequence), leaves=True))
        streams.append(stream)
        produced += len(stream)
    return interleave(streams, rng=rng)[:count]


def incoming(events: Sequence[InternalEvent]) -> list[Incoming]:
    return [
        Incoming(event.topic, 0, offset, event.customer_id.encode(), None, event)
        for offset, event in enumerate(events)
    ]


async def run(events: int, batch_size: int, postgres: EmbeddedPostgres, database: str = "bench_entitlements") -> Any:
    await postgres.create_databases([database])
    settings = EntitlementsSettings(database_url=postgres.database_url(database))
    from shared.group_ruleset import load_group_ruleset
    from shared.ruleset import load_ruleset

    ruleset = load_ruleset(settings.ruleset_path)
    transactions = Transactions(
        engine=create_engine(settings=settings), make_unit_of_work=partial(
            EntitlementsUnitOfWork, ruleset=ruleset, group_ruleset=load_group_ruleset(settings.group_ruleset_path)
        )
    )
    await upgrade_to_head(engine=transactions.engine, migrations_dir=MIGRATIONS_DIR)
    handlers: dict[str, Any] = {}
    for route in consumers.routes():
        handlers.update(route.handlers)
    items = incoming(synthetic_events(events))
    started = time.perf_counter()
    stale = len(
        (await apply_in_batches(transactions=transactions, items=items, handlers=handlers, batch_size=batch_size)).stale
    )
    elapsed = time.perf_counter() - started
    async with transactions.engine.connect() as connection:
        from sqlalchemy import text

        summary = (
            await connection.execute(
                text(
                    "SELECT (SELECT count(*) FROM customers), (SELECT sum(tier_revision + representative_revision) "
                    "FROM customers), (SELECT count(*) FROM periods), (SELECT count(*) FROM periods WHERE "
                    "state = 'open'), (SELECT count(*) FROM tier_changes)"
                )
            )
        ).one()
    await transactions.engine.dispose()
    print(
        f"customers={summary[0]} revisions={summary[1]} periods={summary[2]} open={summary[3]} "
        f"tier_changes={summary[4]} stale={stale}"
    )
    print(f"entitlements_alone_events_per_s={len(items) / elapsed:.0f} ms_per_event={elapsed / len(items) * 1000:.3f}")


if __name__ == "__main__":
    run_alone(run, description=__doc__, events=6000)
