"""`vip up` stopping: on Ctrl-C, wait until nothing is left in the memory-only broker, then stop.

The embedded Tansu keeps topics in memory only: stopping it while a consumer group is behind, or
while an outbox still holds events the relay has not sent, loses those events for good (the outbox
row would be sent again at the next start, but the event a service had not consumed would not). So
the first signal waits, bounded by `--drain-timeout`, until every service's consumer group has
committed the end of every partition it reads and every outbox is empty; a second signal stops at
once and says how many events that drops.

What is measured, and where from:
- consumer lag: asked of the broker itself, the group's committed offsets (`vip-<service>`) against
  each partition's end offset, not the services' `vip_consumer_lag` gauge, which is refreshed only
  after a batch and so reads 0 before the first one;
- outbox backlog: `SELECT count(*) FROM outbox` in each service's database, exact at every instant,
  where the `vip_outbox_backlog` gauge may still read 0 in the instant after a commit.

An event moves from a topic (lag) to an outbox (rows) to the next topic (lag): one measurement is
not atomic across those, so a drain ends only on two empty measurements in a row, a poll interval
apart.
"""

import asyncio
import importlib
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.errors import KafkaError
from aiokafka.structs import OffsetAndMetadata
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlalchemy.pool import NullPool

from cli.layout import SERVICES

Report = Callable[[str], None]
T = TypeVar("T")


@dataclass(frozen=True)
class Backlog:
    """What the platform still holds that the memory-only broker would lose: per service, the events
    its consumer group has not consumed yet and the rows of its outbox not sent yet."""

    behind: Mapping[str, int]
    outbox_rows: Mapping[str, int]

    @property
    def total(self) -> int:
        return sum(self.behind.values()) + sum(self.outbox_rows.values())

    @property
    def is_empty(self) -> bool:
        return self.total == 0

    def progress_line(self) -> str:
        """`draining: scoring 0 behind, tiering 120 behind, ..., outboxes 35 rows`."""
        groups = ", ".join(f"{service} {count} behind" for service, count in self.behind.items())
        return f"draining: {groups}, outboxes {sum(self.outbox_rows.values())} rows"


def consumed_topics() -> dict[str, list[str]]:
    """Each service's consumed topics, read from its own `consumers.routes()` so a new route is
    drained without a second list to keep in step."""
    consumed: dict[str, list[str]] = {}
    for service in SERVICES:
        routes: Sequence[Any] = importlib.import_module(f"services.{service.name}.consumers").routes()
        consumed[service.name] = list(dict.fromkeys(route.topic for route in routes))
    return consumed


class BacklogProbe:
    """The broker and database clients a drain measures with, opened once for the whole drain.

    A partition's end is the high watermark of a fetch response, not ListOffsets: Tansu answers
    ListOffsets(latest) with the last batch's base offset plus one, short of the end by the rest of
    that batch, and would end a drain with events still unconsumed.
    """

    def __init__(
        self,
        *,
        bootstrap_servers: str,
        consumed: Mapping[str, Sequence[str]],
        groups: Mapping[str, str],
        database_urls: Mapping[str, str],
        fresh_within_s: float = 10.0,
    ) -> None:
        self._consumed = consumed
        self._groups = groups
        self._fresh_within_s = fresh_within_s
        self._admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap_servers, client_id="vip-up-drain")
        self._ends = AIOKafkaConsumer(
            bootstrap_servers=bootstrap_servers, client_id="vip-up-drain", group_id=None,
            enable_auto_commit=False, auto_offset_reset="latest", fetch_max_wait_ms=20,
        )
        self._engines: dict[str, AsyncEngine] = {
            service: create_async_engine(url, poolclass=NullPool) for service, url in database_urls.items()
        }
        self._partitions: dict[str, list[TopicPartition]] = {}

    async def start(self) -> None:
        await self._admin.start()
        await self._ends.start()
        await self._ends.topics()  # the metadata partitions_for_topic reads
        for service, topics in self._consumed.items():
            self._partitions[service] = [
                TopicPartition(topic, partition)
                for topic in topics
                for partition in sorted(self._ends.partitions_for_topic(topic) or ())
            ]
        self._ends.assign(list({tp for tps in self._partitions.values() for tp in tps}))

    async def close(self) -> None:
        """Safe after a failed or partial `start`."""
        await self._ends.stop()
        await self._admin.close()
        for engine in self._engines.values():
            await engine.dispose()

    async def measure(self) -> Backlog:
        """Committed offsets first, ends after: a lag read in that order is never short."""
        committed = {
            service: await self._admin.list_consumer_group_offsets(self._groups[service], partitions=partitions)
            for service, partitions in self._partitions.items() if partitions
        }
        ends = await self._high_watermarks()
        behind = {}
        for service, partitions in self._partitions.items():
            starts = await self._ends.beginning_offsets(partitions) if partitions else {}
            behind[service] = sum(
                max(0, ends[tp] - _position(committed[service].get(tp), start=starts[tp])) for tp in partitions
            )
        outbox_rows = {service: await self._outbox_rows(engine) for service, engine in self._engines.items()}
        return Backlog(behind=behind, outbox_rows=outbox_rows)

    async def _high_watermarks(self) -> dict[TopicPartition, int]:
        """Each partition's end from a fetch answered after this call began (records read are dropped)."""
        asked_at_ms = int(time.time() * 1000)
        assigned = self._ends.assignment()
        async with asyncio.timeout(self._fresh_within_s):
            while True:
                await self._ends.getmany(timeout_ms=50)
                if all((self._ends.last_poll_timestamp(tp) or 0) >= asked_at_ms for tp in assigned):
                    break
        return {tp: self._ends.highwater(tp) or 0 for tp in assigned}

    @staticmethod
    async def _outbox_rows(engine: AsyncEngine) -> int:
        async with engine.connect() as connection:
            return int(await connection.scalar(text("SELECT count(*) FROM outbox")) or 0)


def _position(committed: OffsetAndMetadata | None, *, start: int) -> int:
    """Where the group resumes: its committed offset, else the partition's beginning."""
    return committed.offset if committed is not None and committed.offset >= 0 else start


MEASUREMENT_FAILURES = (KafkaError, SQLAlchemyError, OSError, TimeoutError)


async def drain(
    *,
    measure: Callable[[], Awaitable[Backlog]],
    timeout_s: float,
    forced: asyncio.Event,
    report: Report,
    interval_s: float = 1.0,
) -> Backlog | None:
    """Measure every `interval_s` and print the progress line until two measurements in a row are
    empty, `timeout_s` has passed or `forced` is set; the last backlog measured (None: none was).

    Whatever ends it, the line says what the stop drops, so an operator never loses events silently.
    """
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout_s
    last: Backlog | None = None
    empty_in_a_row = 0
    while True:
        if forced.is_set():
            report(f"stopping now: {_lost(last)} with the memory-only broker")
            return last
        measured: Backlog | None = None
        try:
            measured = await _unless(measure(), forced)
        except MEASUREMENT_FAILURES as error:
            report(f"draining: cannot measure the backlog ({error!r}); trying again")
        if measured is not None:
            last = measured
            empty_in_a_row = empty_in_a_row + 1 if last.is_empty else 0
            if empty_in_a_row >= 2:
                report("drained: every event consumed and every outbox empty")
                return last
            report(last.progress_line())
        if loop.time() >= deadline and not forced.is_set():
            report(f"drain timed out after {timeout_s:g} s: {_lost(last)} with the memory-only broker")
            return last
        if not forced.is_set():
            await _unless(asyncio.sleep(interval_s), forced)


def _lost(backlog: Backlog | None) -> str:
    if backlog is None:
        return "events not yet consumed, if any, are lost"
    if backlog.is_empty:
        return "nothing left behind: no event is lost"
    return f"{backlog.total} events not yet consumed are lost"


def consumer_groups(environ: Mapping[str, str]) -> dict[str, str]:
    """Each service's consumer group, as its settings name it from the same environment."""
    explicit = environ.get("VIP_CONSUMER_GROUP")
    prefix = environ.get("VIP_CONSUMER_GROUP_PREFIX") or "vip"
    return {service.name: explicit or f"{prefix}-{service.name}" for service in SERVICES}


async def unless_set(work: Awaitable[T], event: asyncio.Event) -> tuple[bool, T | None]:
    """`(True, work's result)`, or `(False, None)` as soon as `event` is set (the work is cancelled).

    A failure of the work is raised; used by the drain (a second Ctrl-C) and by `vip up` (a shutdown)."""
    task = asyncio.ensure_future(work)
    stop = asyncio.ensure_future(event.wait())
    try:
        await asyncio.wait({task, stop}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        stop.cancel()
    if not task.done():
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        return False, None
    return True, task.result()


async def _unless(work: Awaitable[Backlog | None], forced: asyncio.Event) -> Backlog | None:
    """`work`'s result, or None as soon as `forced` is set."""
    return (await unless_set(work, forced))[1]
