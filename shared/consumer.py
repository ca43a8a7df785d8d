"""The batch consumer loop every service runs.

    getmany -> decode + validate --invalid--> <topic>.dlq
                     | valid
                     v
               process(batch): one transaction (inbox, handlers, outbox), commit
                     v
               commit Kafka offsets (explicit, per partition)

An offset is committed only after its effects are committed (or its dead letter acknowledged). A
crash in between replays the batch and the inbox absorbs it. A database outage is retried with
back-off without committing; an event that fails on its own is dead-lettered alone.
"""

import asyncio
import contextlib
import logging
import time
from collections.abc import Sequence
from typing import Any, Generic

from aiokafka import AIOKafkaConsumer, ConsumerRebalanceListener, TopicPartition
from aiokafka.errors import CommitFailedError, IllegalStateError, KafkaError
from aiokafka.structs import ConsumerRecord
from pydantic import ValidationError

from shared import faults
from shared.db import Transactions, U
from shared.dead_letters import DeadLetters, Rejected
from shared.failures import describe, is_transient
from shared.kafka import create_consumer
from shared.metrics import ServiceMetrics
from shared.processing import Handler, Incoming, Outcome, Route, process
from shared.settings import ServiceSettings

log = logging.getLogger(__name__)

_MAX_BACKOFF_S = 5.0

Batch = dict[TopicPartition, list[ConsumerRecord[Any, Any]]]


def _validation_reason(error: ValidationError) -> str:
    problems = []
    for detail in error.errors()[:5]:
        where = ".".join(str(part) for part in detail["loc"]) or "message"
        problems.append(f"{where}: {detail['msg']}")
    return "; ".join(problems)


def forget_lag(metrics: ServiceMetrics, partitions: Sequence[TopicPartition]) -> None:
    """Drops the lag series of partitions this instance no longer reads: their lag is now another
    instance's to report, and a frozen series would add a phantom backlog to every sum."""
    for tp in partitions:
        with contextlib.suppress(KeyError):  # never measured here
            metrics.consumer_lag.remove(tp.topic, str(tp.partition))


class _DrainBeforeRevoke(ConsumerRebalanceListener):  # type: ignore[misc]
    """Lets a batch in flight finish and commit before its partitions move to another member."""

    def __init__(self, in_flight: asyncio.Lock, *, metrics: ServiceMetrics) -> None:
        self._in_flight = in_flight
        self._metrics = metrics

    async def on_partitions_revoked(self, revoked: list[TopicPartition]) -> None:
        async with self._in_flight:
            log.info("partitions revoked: %s", sorted(f"{tp.topic}[{tp.partition}]" for tp in revoked))
        forget_lag(self._metrics, revoked)

    async def on_partitions_assigned(self, assigned: list[TopicPartition]) -> None:
        log.info("partitions assigned: %s", sorted(f"{tp.topic}[{tp.partition}]" for tp in assigned))


class BatchConsumer(Generic[U]):
    def __init__(
        self,
        *,
        settings: ServiceSettings,
        routes: Sequence[Route[U]],
        transactions: Transactions[U],
        dead_letters: DeadLetters,
        metrics: ServiceMetrics,
    ) -> None:
        self._settings = settings
        self._routes = {route.topic: route for route in routes}
        self._transactions = transactions
        self._dead_letters = dead_letters
        self._metrics = metrics
        self._in_flight = asyncio.Lock()
        self._stopping = asyncio.Event()
        self._consumer: AIOKafkaConsumer | None = None
        self.assigned = False

    def stop(self) -> None:
        self._stopping.set()

    async def run(self) -> None:
        consumer = create_consumer(settings=self._settings)
        listener = _DrainBeforeRevoke(self._in_flight, metrics=self._metrics)
        consumer.subscribe(topics=list(self._routes), listener=listener)
        self._consumer = consumer
        await consumer.start()
        try:
            while not self._stopping.is_set():
                batch = await consumer.getmany(timeout_ms=500, max_records=self._settings.batch_max_records)
                self.assigned = bool(consumer.assignment())
                if batch:
                    async with self._in_flight:
                        await self._handle(consumer, batch)
                    await self._record_lag(consumer)
        finally:
            await consumer.stop()

    async def _handle(self, consumer: AIOKafkaConsumer, batch: "Batch") -> None:
        started = time.perf_counter()
        records = [record for partition_records in batch.values() for record in partition_records]
        self._metrics.batch_size.observe(len(records))
        decoded, rejected = self._decode(records)
        applied = await self._apply(decoded)
        if applied is None:
            return  # stopping during an outage: nothing committed, the batch is redelivered
        outcome, failed = applied
        self._observe_waits(records)
        rejected.extend(failed)
        if rejected:
            await self._dead_letters.park(rejected)
            for item in rejected:
                self._metrics.events_dead_lettered.labels(item.topic, item.stage).inc()
        self._count(outcome)
        if faults.ARMED:
            await faults.crash_point_once_published("after_publish", engine=self._transactions.engine)
        await self._commit(consumer, batch)
        self._metrics.batch_seconds.observe(time.perf_counter() - started)

    def _observe_waits(self, records: list[ConsumerRecord[Any, Any]]) -> None:
        """Each message's wait, from its broker timestamp to now, just after the commit that made its
        effect visible (`vip_record_wait_seconds`): where a hop's share of the end-to-end latency goes."""
        now_ms = time.time() * 1000
        by_topic: dict[str, list[float]] = {}
        for record in records:
            by_topic.setdefault(record.topic, []).append(max(0.0, now_ms - record.timestamp) / 1000)
        for topic, waits in by_topic.items():
            histogram = self._metrics.record_wait.labels(topic)
            for wait in waits:
                histogram.observe(wait)

    def _decode(self, records: list[ConsumerRecord[Any, Any]]) -> tuple[list[Incoming], list[Rejected]]:
        decoded: list[Incoming] = []
        rejected: list[Rejected] = []
        for record in records:
            self._metrics.events_consumed.labels(record.topic).inc()
            route = self._routes[record.topic]
            try:
                if record.value is None:
                    raise ValueError("empty message")
                event = route.adapter.validate_json(record.value, strict=True)
            except ValidationError as error:
                reason = _validation_reason(error)
            except ValueError as error:
                reason = str(error)
            else:
                decoded.append(
                    Incoming(record.topic, record.partition, record.offset, record.key, record.value, event,
                             tuple(record.headers or ()))
                )
                continue
            rejected.append(
                Rejected(record.topic, record.partition, record.offset, record.key, record.value, reason, "decode",
                         tuple(record.headers or ()))
            )
        return decoded, rejected

    def _handler_for(self, item: Incoming) -> Handler[U] | None:
        return self._routes[item.topic].handlers.get(item.event_type)

    async def _apply(self, batch: list[Incoming]) -> tuple[Outcome, list[Rejected]] | None:
        """Apply the batch; on a non-transient failure, split it in halves until the poison is alone.

        Halving finds each poisoned event in about 2 log2(n) transactions instead of n, and applies
        the halves in order, so a partition's events keep their order around the one set aside.
        """
        total, failed = Outcome(), []
        pending = [batch] if batch else []
        while pending:
            part = pending.pop(0)
            try:
                outcome = await self._retrying(part)
            except Exception as error:
                if len(part) > 1:
                    log.warning("batch of %d failed (%s); applying it in halves", len(part), describe(error))
                    middle = len(part) // 2
                    pending[:0] = [part[:middle], part[middle:]]
                    continue
                item = part[0]
                failed.append(
                    Rejected(item.topic, item.partition, item.offset, item.key, item.value,
                             f"rejected while applying: {describe(error)}", "apply", item.headers)
                )
                continue
            if outcome is None:
                return None
            total.applied += outcome.applied
            total.duplicates += outcome.duplicates
            total.ignored += outcome.ignored
            total.stale += outcome.stale
            total.published += outcome.published
        return total, failed

    async def _retrying(self, batch: list[Incoming]) -> Outcome | None:
        """Retries transient failures until they pass; None if asked to stop meanwhile."""
        backoff = 0.2
        while True:
            try:
                return await process(transactions=self._transactions, batch=batch, handler_for=self._handler_for)
            except Exception as error:
                if not is_transient(error):
                    raise
                self._metrics.transient_failures.labels("database").inc()
                log.warning("database unavailable (%s); retrying in %.1fs", describe(error), backoff)
            try:
                await asyncio.wait_for(self._stopping.wait(), timeout=backoff)
                return None
            except TimeoutError:
                backoff = min(backoff * 2, _MAX_BACKOFF_S)

    def _count(self, outcome: Outcome) -> None:
        for item in outcome.applied:
            self._metrics.events_processed.labels(item.topic, item.event_type).inc()
        for item in outcome.duplicates:
            self._metrics.events_duplicate.labels(item.topic).inc()
        for item in outcome.ignored:
            self._metrics.events_ignored.labels(item.topic).inc()
        for item in outcome.stale:
            self._metrics.events_stale.labels(item.topic).inc()

    async def _commit(self, consumer: AIOKafkaConsumer, batch: "Batch") -> None:
        offsets = {tp: records[-1].offset + 1 for tp, records in batch.items() if records}
        owned = consumer.assignment()
        offsets = {tp: offset for tp, offset in offsets.items() if tp in owned}
        if not offsets:
            return
        try:
            await consumer.commit(offsets)
        except (CommitFailedError, IllegalStateError) as error:
            # The partitions moved to another member: it will re-read from the last commit and the
            # inbox absorbs what we already applied.
            log.warning("offset commit refused after a rebalance: %s", error)
        except KafkaError as error:
            self._metrics.transient_failures.labels("broker").inc()
            log.warning("offset commit failed (%s); the batch will be redelivered", error)

    async def group_offsets(self) -> list[tuple[TopicPartition, int, int]] | None:
        """`(partition, committed, end)` for every partition of every topic this service reads, or None
        before the consumer knows its topics.

        Read from the broker on each call, for the whole group (not only this member's partitions):
        the committed offset first, then the end, so an event appended meanwhile counts as behind,
        never as done. A partition the group never committed counts from its first offset.
        """
        consumer = self._consumer
        if consumer is None:
            return None
        partitions: list[TopicPartition] = []
        for topic in self._routes:
            numbers = consumer.partitions_for_topic(topic)
            if not numbers:
                return None
            partitions += [TopicPartition(topic, number) for number in sorted(numbers)]
        committed: list[int | None] = await asyncio.gather(*map(consumer.committed, partitions))
        done = {tp: offset for tp, offset in zip(partitions, committed, strict=True) if offset is not None}
        never = [tp for tp in partitions if tp not in done]
        if never:
            done |= await consumer.beginning_offsets(never)
        end = await consumer.end_offsets(partitions)
        # Tansu answers ListOffsets "latest" with the start of the last batch plus one, below the
        # real end when that batch holds several records (cli/stopping.py); the high watermark of this
        # member's last fetch is the real end for the partitions it owns (and only those: aiokafka asserts
        # ownership, and another member's partition, or any before the first assignment, is not ours).
        owned = consumer.assignment()
        for tp in partitions:
            if tp in owned:
                end[tp] = max(end[tp], consumer.highwater(tp) or 0)
        return [(tp, done[tp], end[tp]) for tp in partitions]

    async def _record_lag(self, consumer: AIOKafkaConsumer) -> None:
        for tp in consumer.assignment():
            highwater = consumer.highwater(tp) if tp in consumer.assignment() else None
            if highwater is None:
                continue  # nothing fetched yet, or revoked by a rebalance during an earlier await
            try:
                position = await consumer.position(tp)
            except IllegalStateError:
                continue  # revoked while awaiting: its lag is the new owner's to report
            self._metrics.consumer_lag.labels(tp.topic, str(tp.partition)).set(max(0, highwater - position))
