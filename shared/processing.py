"""`process()`: apply a batch of decoded events in one transaction, exactly once each.

Inside one transaction: claim every event id in the inbox (a duplicate, even inside the same batch,
is skipped), run each new event's handler, queue what it returns for the outbox, then what the unit
of work's `finish_batch` returns (the work handlers asked to do once per batch), commit once.
The caller commits the Kafka offsets only after this returns.
"""

from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Generic

from pydantic import TypeAdapter

from shared import faults
from shared.db import Publishable, Transactions, U
from shared.inbox import claim_new_event_ids
from shared.logs import correlation

Handler = Callable[[Any, U], Awaitable[Sequence[Publishable]]]


@dataclass(frozen=True)
class Route(Generic[U]):
    """A topic this service reads: how to decode its messages and which handler takes which type."""

    topic: str
    adapter: TypeAdapter[Any]
    handlers: Mapping[str, Handler[U]]


@dataclass(frozen=True, slots=True)
class Incoming:
    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes | None
    event: Any
    headers: tuple[tuple[str, bytes], ...] = ()

    @property
    def event_id(self) -> str:
        return str(self.event.event_id)

    @property
    def event_type(self) -> str:
        return str(self.event.event_type)

    @property
    def correlation_id(self) -> str:
        return str(getattr(self.event, "correlation_id", None) or self.event.event_id)


@dataclass(slots=True)
class Outcome:
    applied: list[Incoming] = field(default_factory=list)
    duplicates: list[Incoming] = field(default_factory=list)
    ignored: list[Incoming] = field(default_factory=list)
    stale: list[Incoming] = field(default_factory=list)
    published: int = 0


async def process(
    *,
    transactions: Transactions[U],
    batch: Sequence[Incoming],
    handler_for: Callable[[Incoming], Handler[U] | None],
) -> Outcome:
    outcome = Outcome()
    async with transactions.begin() as unit_of_work:
        unclaimed: dict[str, set[str]] = {}
        for topic in dict.fromkeys(item.topic for item in batch):
            unclaimed[topic] = await claim_new_event_ids(
                unit_of_work.connection,
                topic=topic,
                event_ids=[item.event_id for item in batch if item.topic == topic],
            )
        await unit_of_work.prepare(
            [item.event for item in batch if item.event_id in unclaimed[item.topic]]
        )
        for item in batch:
            if item.event_id not in unclaimed[item.topic]:
                outcome.duplicates.append(item)
                continue
            unclaimed[item.topic].discard(item.event_id)
            handler = handler_for(item)
            if handler is None:
                outcome.ignored.append(item)
                continue
            stale_before = unit_of_work.stale_events
            with correlation(item.correlation_id):
                unit_of_work.publish(await handler(item.event, unit_of_work))
            (outcome.stale if unit_of_work.stale_events > stale_before else outcome.applied).append(item)
        unit_of_work.publish(await unit_of_work.finish_batch())
        outcome.published = len(unit_of_work.published)
        faults.crash_point("before_commit")
    faults.crash_point("after_commit")
    return outcome
