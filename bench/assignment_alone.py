"""How fast assignment applies events on its own: `process()` over batches, no broker, no HTTP.

    python -m bench.assignment_alone --events 6000 --batch 500

Uses an embedded PostgreSQL in a temporary directory. First the service persons' profiles arrive
(agents on policies, each channel's service pool and top performers; not timed). Then the timed
stream mimics what tiering and HR publish: for each customer a `TierDecided` making them VIP (their
agents' policies, now and then agents without a profile so the pool takes them), contacts, an
upgrade (no churn), now and then a redelivered older revision (stale) or a downgrade ending the
assignment; and, interleaved, HR profile updates (one in four renaming a representative:
republished), late first profiles and, rarely, a departure. A customer's events stay in order,
interleaved with other customers' events, so one batch often holds several events of the same
customer. The same generator feeds `tests/assignment/test_batches.py`.
"""

import random
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from functools import partial
from typing import Any

from sqlalchemy import text

from bench.harness import apply_in_batches, interleave, run_alone
from cli.postgres import EmbeddedPostgres
from services.assignment import consumers
from services.assignment.config import AssignmentSettings
from services.assignment.main import MIGRATIONS_DIR
from services.assignment.repositories import AssignmentUnitOfWork
from shared.db import Transactions, create_engine
from shared.events.inbound import (
    AgentDeparted,
    AgentProfile,
    AgentUpserted,
    CustomerContacted,
    InboundEvent,
)
from shared.events.internal import PolicyContribution, TierDecided
from shared.events.values import AgentRole, Channel, Standard, Tier
from shared.migrations import upgrade_to_head
from shared.processing import Incoming
from shared.ruleset import load_ruleset
from shared.topics import AGENT_EVENTS, TIER_DECISIONS

CHANNELS = [Channel.AGENCY, Channel.BANCASSURANCE, Channel.BROKERAGE, Channel.ECOMMERCE]
POOL = [AgentRole.CS_SPECIALIST, AgentRole.RENEWAL_STAFF, AgentRole.BACK_OFFICE]
NOW = datetime(2026, 9, 20, 2, 0, tzinfo=UTC)
AGENTS = 600
LATE_AGENTS = 60  # on policies, but their first profile arrives during the stream
POOL_PER_CHANNEL = 20
TOPS_PER_CHANNEL = 5

Event = TierDecided | InboundEvent


def _agent_id(number: int) -> str:
    return f"A{number:05d}"


def _profile(agent_id: str, channel: Channel, role: AgentRole, *, top: bool = False, name: str = "") -> AgentProfile:
    return AgentProfile(
        agent_id=agent_id,
        name=name or f"Agent {agent_id}",
        channel=channel,
        branch="GD-SZ",
        role=role,
        top_performer=top,
        eligible=True,
    )


def _channel_of(number: int) -> Channel:
    return CHANNELS[number % len(CHANNELS)]


def agent_setup(rng: random.Random) -> list[Event]:
    """Every known person's profile: agents on policies, pools and top performers per channel."""
    events: list[Event] = []
    at = NOW - timedelta(days=400)
    for number in range(1, AGENTS - LATE_AGENTS + 1):
        profile = _profile(_agent_id(number), _channel_of(number), AgentRole.AGENT, top=rng.random() < 0.05)
        events.append(
            AgentUpserted(event_id=f"setup-{number}", occurred_at=at, event_type="agent_upserted", agent=profile)
        )
    for channel in CHANNELS:
        for index in range(POOL_PER_CHANNEL + TOPS_PER_CHANNEL):
            top = index >= POOL_PER_CHANNEL
            agent_id = f"{'T' if top else 'S'}-{channel.value}-{index:03d}"
            profile = _profile(agent_id, channel, AgentRole.AGENT if top else rng.choice(POOL), top=top)
            events.append(
                AgentUpserted(event_id=f"setup-{agent_id}", occurred_at=at, event_type="agent_upserted", agent=profile)
            )
    return events


def _tier_decided(
    rng: random.Random, *, customer_id: str, revision: int, tier: Tier | None, sequence: int, agents: Sequence[str]
) -> TierDecided:
    channel = rng.choice(CHANNELS)
    policies = tuple(
        PolicyContribution(
            policy_no=f"{customer_id}P{index}",
            channel=channel,
            branch="GD-SZ",
            agent_id=agent_id,
            issued_on=date(2026, 9, 1),
            points=Decimal(rng.choice([20_000, 40_000, 40_000, 90_000])),
            standard_premium=Decimal(30_000),
            state="counted",
            explanation="1 x N",
        )
        for index, agent_id in enumerate(agents)
    )
    return TierDecided(
        event_id=f"bench-td-{sequence}",
        occurred_at=NOW + timedelta(seconds=sequence),
        correlation_id=f"bench-c-{sequence}",
        customer_id=customer_id,
        revision=revision,
        tier=tier,
        previous_tier=None,
        computed_tier=tier,
        honorary_tier=None,
        standard=Standard.Y2015,
        points=Decimal(200_000),
        vip_since=date(2026, 9, 1) if tier else None,
        effective_at=date(2026, 9, 1 + revision),
        serving_channel=channel,
        trigger="new_business",
        ruleset_version="individual-2015.1",
        reason="bench",
        policies=policies,
    )


@dataclass
class _Stream:
    """One customer's events, numbered across the whole run."""

    rng: random.Random
    customer_id: str
    sequence: int
    events: list[Event] = field(default_factory=list)

    def add(self, event: Event) -> None:
        self.events.append(event)
        self.sequence += 1

    def tier(self, revision: int, tier: Tier | None, agents: Sequence[str]) -> None:
        self.add(
            _tier_decided(
                self.rng, customer_id=self.customer_id, revision=revision, tier=tier, sequence=self.sequence,
                agents=agents,
            )
        )

    def contact(self, agent_id: str) -> None:
        moment = NOW + timedelta(seconds=self.sequence)
        self.add(CustomerContacted(
            event_id=f"bench-cc-{self.sequence}", occurred_at=moment, event_type="customer_contacted",
            agent_id=agent_id, customer_id=self.customer_id,
            contacted_at=moment - timedelta(seconds=self.rng.randint(-5, 5)),
        ))

    def hr(self, agent_id: str, late: Iterator[int]) -> None:
        """Now and then: a late first profile, a profile update (a rename one time in four), a departure."""
        roll, moment = self.rng.random(), NOW + timedelta(seconds=self.sequence)
        known = agent_id.startswith("A") and int(agent_id[1:]) <= AGENTS - LATE_AGENTS
        if roll < 0.1:
            number = next(late, None)
            if number is not None:
                profile = _profile(_agent_id(number), _channel_of(number), AgentRole.AGENT)
                self.add(AgentUpserted(
                    event_id=f"bench-late-{self.sequence}", occurred_at=moment, event_type="agent_upserted",
                    agent=profile,
                ))
        elif roll < 0.3 and known:
            renamed = self.rng.random() < 0.25
            name = f"Agent {agent_id} {self.sequence}" if renamed else ""
            profile = _profile(agent_id, _channel_of(int(agent_id[1:])), AgentRole.AGENT, name=name)
            self.add(AgentUpserted(
                event_id=f"bench-up-{self.sequence}", occurred_at=moment, event_type="agent_upserted", agent=profile
            ))
        elif roll < 0.31:
            self.add(AgentDeparted(
                event_id=f"bench-dep-{self.sequence}", occurred_at=moment, event_type="agent_departed",
                agent_id=agent_id, departed_on=date(2026, 9, 25),
            ))


def _customer_stream(rng: random.Random, customer_id: str, sequence: int, late: Iterator[int]) -> _Stream:
    stream = _Stream(rng, customer_id, sequence)
    agents = [_agent_id(rng.randint(1, AGENTS)) for _ in range(rng.randint(1, 3))]
    if rng.random() < 0.05:
        agents = [f"X{rng.randint(1, 10_000):05d}"]  # nobody known on the policies: the pool
    stream.tier(1, rng.choice([Tier.GOLD, Tier.PLATINUM]), agents)
    for _ in range(rng.randint(0, 2)):
        stream.contact(rng.choice(agents))
    stream.tier(2, Tier.DIAMOND, agents)
    if rng.random() < 0.2:
        stream.tier(1, Tier.GOLD, agents)  # redelivered old revision: stale
    if rng.random() < 0.1:
        stream.tier(3, None, agents)  # no longer VIP
    stream.hr(rng.choice(agents), late)
    return stream


def synthetic_events(count: int, *, seed: int = 8) -> list[Event]:
    """About `count` events in the timed stream, each customer's in order, customers interleaved."""
    rng = random.Random(seed)
    sequence = 0
    streams: list[list[Event]] = []
    produced = 0
    late = iter(range(AGENTS - LATE_AGENTS + 1, AGENTS + 1))
    while produced < count:
        stream = _customer_stream(rng, f"BC{len(streams):07d}", sequence, late)
        sequence = stream.sequence
        streams.append(stream.events)
        produced += len(stream.events)
    return interleave(streams, rng=rng)[:count]


def incoming(events: Sequence[Event]) -> list[Incoming]:
    items = []
    for offset, event in enumerate(events):
        if isinstance(event, TierDecided):
            items.append(Incoming(TIER_DECISIONS, 0, offset, event.customer_id.encode(), None, event))
        else:
            key = getattr(event, "agent_id", None) or getattr(getattr(event, "agent", None), "agent_id", "")
            items.append(Incoming(AGENT_EVENTS, 0, offset, str(key).encode(), None, event))
    return items


async def _apply(transactions: Transactions[AssignmentUnitOfWork], items: Sequence[Incoming], batch_size: int) -> int:
    handlers: dict[str, Any] = {}
    for route in consumers.routes():
        handlers.update(route.handlers)
    outcome = await apply_in_batches(
        transactions=transactions, items=items, handlers=handlers, batch_size=batch_size
    )
    return len(outcome.stale)


async def run(events: int, batch_size: int, postgres: EmbeddedPostgres, database: str = "bench_assignment") -> Any:
    await postgres.create_databases([database])
    settings = AssignmentSettings(database_url=postgres.database_url(database))
    ruleset = load_ruleset(settings.ruleset_path)
    transactions = Transactions(
        engine=create_engine(settings=settings), make_unit_of_work=partial(AssignmentUnitOfWork, ruleset=ruleset)
    )
    await upgrade_to_head(engine=transactions.engine, migrations_dir=MIGRATIONS_DIR)
    rng = random.Random(3)
    await _apply(transactions, incoming(agent_setup(rng)), batch_size)
    items = incoming(synthetic_events(events))
    started = time.perf_counter()
    stale = await _apply(transactions, items, batch_size)
    elapsed = time.perf_counter() - started
    async with transactions.engine.connect() as connection:
        summary = (
            await connection.execute(
                text(
                    "SELECT (SELECT count(*) FROM customers), (SELECT count(*) FROM customers WHERE "
                    "representative_id IS NOT NULL), (SELECT sum(revision) FROM customers), "
                    "(SELECT count(*) FROM representative_history), (SELECT count(*) FROM outbox), "
                    "(SELECT sum(load) FROM agents), (SELECT count(*) FROM contacts)"
                )
            )
        ).one()
    await transactions.engine.dispose()
    print(
        f"customers={summary[0]} represented={summary[1]} revisions={summary[2]} history={summary[3]} "
        f"published={summary[4]} load={summary[5]} contacts={summary[6]} stale={stale}"
    )
    print(f"assignment_alone_events_per_s={len(items) / elapsed:.0f} ms_per_event={elapsed / len(items) * 1000:.3f}")


if __name__ == "__main__":
    run_alone(run, description=__doc__, events=6000)
