"""The outbox relay: publishes committed events to the broker, in commit order.

One relay per service database publishes at a time (a PostgreSQL advisory lock elects it), so one
customer's events leave in the order they were written. A row is deleted only after the broker
acknowledged it; a crash in between publishes it again, with the same event id, and the consumer's
inbox absorbs the repeat.
"""

import asyncio
import contextlib
import logging
import time
import zlib
from collections import Counter
from collections.abc import Sequence
from typing import Any

from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaError
from sqlalchemy import Row, delete, func, select, text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from shared import faults
from shared.dead_letters import Rejected, is_refused_for_good, record_dead_letters
from shared.failures import describe, is_transient
from shared.messaging_tables import OUTBOX
from shared.metrics import ServiceMetrics
from shared.settings import ServiceSettings
from shared.sql import any_of

log = logging.getLogger(__name__)

_BACKLOG_EVERY_S = 1.0
OutboxRow = Row[Any, Any, Any, Any, Any, Any, Any]
_DELETE_SENT = delete(OUTBOX).where(any_of(OUTBOX.c.id, "ids"))


class OutboxRelay:
    def __init__(
        self, *, settings: ServiceSettings, engine: AsyncEngine, producer: AIOKafkaProducer,
        metrics: ServiceMetrics,
    ) -> None:
        self._settings = settings
        self._engine = engine
        self._producer = producer
        self._metrics = metrics
        self._wake = asyncio.Event()
        self._stopping = asyncio.Event()
        self._backlog_counted_at = 0.0
        self._lock_key = zlib.crc32(f"vip-outbox-relay:{settings.service_name}".encode())
        self.leading = False

    def wake(self) -> None:
        self._wake.set()

    def stop(self) -> None:
        self._stopping.set()
        self._wake.set()

    async def run(self) -> None:
        backoff = 0.2
        while not self._stopping.is_set():
            try:
                async with self._engine.connect() as connection:
                    if await self._lead(connection):
                        backoff = 0.2
                        await self._publish_until_stopped(connection)
                    else:
                        await self._pause(1.0)
            except Exception as error:
                if not (is_transient(error) or isinstance(error, KafkaError)):
                    raise
                self.leading = False
                self._metrics.transient_failures.labels("relay").inc()
                log.warning("relay paused (%s); retrying in %.1fs", describe(error), backoff)
                await self._pause(backoff)
                backoff = min(backoff * 2, 5.0)

    async def _lead(self, connection: AsyncConnection) -> bool:
        acquired = await connection.scalar(text("SELECT pg_try_advisory_lock(:key)"), {"key": self._lock_key})
        await connection.commit()
        self.leading = bool(acquired)
        return self.leading

    async def _publish_until_stopped(self, connection: AsyncConnection) -> None:
        poll = self._settings.relay_poll_interval_ms / 1000
        while not self._stopping.is_set():
            self._wake.clear()
            sent = await self.publish_pending(connection)
            if sent < self._settings.relay_batch_size:
                await self._pause(poll)

    async def publish_pending(self, connection: AsyncConnection) -> int:
        rows = (
            await connection.execute(
                select(OUTBOX.c.id, OUTBOX.c.topic, OUTBOX.c.key, OUTBOX.c.payload,
                       OUTBOX.c.event_type, OUTBOX.c.correlation_id, OUTBOX.c.created_at)
                .order_by(OUTBOX.c.id)
                .limit(self._settings.relay_batch_size)
            )
        ).all()
        if rows:
            refused = await self._send(rows)
            self._observe_waits(rows)
            faults.crash_point("after_send")
            if refused:
                await self._park(refused)
            await connection.execute(_DELETE_SENT, {"ids": [row.id for row in rows]})
            for topic, sent in Counter(row.topic for row in rows).items():
                self._metrics.events_published.labels(topic).inc(sent)
        if not rows:
            self._metrics.outbox_backlog.set(0)  # exact: nothing was waiting
        elif time.monotonic() - self._backlog_counted_at >= _BACKLOG_EVERY_S:
            # While busy, a count (a scan of the outbox) once a second is plenty for a gauge.
            self._metrics.outbox_backlog.set(await connection.scalar(select(func.count()).select_from(OUTBOX)) or 0)
            self._backlog_counted_at = time.monotonic()
        await connection.commit()
        return len(rows)

    def _observe_waits(self, rows: Sequence[OutboxRow]) -> None:
        """Each row's wait from the start of the transaction that wrote it to the broker's ack."""
        acked = time.time()
        histograms = {topic: self._metrics.outbox_wait.labels(topic) for topic in {row.topic for row in rows}}
        for row in rows:
            histograms[row.topic].observe(max(0.0, acked - row.created_at.timestamp()))

    async def _send(self, rows: Sequence[OutboxRow]) -> list[tuple[OutboxRow, KafkaError]]:
        """Sends every row and waits for the broker; returns the rows it refused for good.

        A passing failure (broker away) raises: nothing is deleted and the batch is sent again. A
        message the broker will never take (too large) must not hold every later event behind it.
        """
        refused: list[tuple[OutboxRow, KafkaError]] = []
        deliveries = []
        for row in rows:
            try:
                deliveries.append((row, await self._producer.send(
                    row.topic, value=row.payload, key=row.key.encode(),
                    headers=[("event_type", row.event_type.encode()), ("correlation_id", row.correlation_id.encode())],
                )))
            except KafkaError as error:
                if not is_refused_for_good(error):
                    raise
                refused.append((row, error))
        for row, delivery in deliveries:
            try:
                await delivery
            except KafkaError as error:
                if not is_refused_for_good(error):
                    raise
                refused.append((row, error))
        return refused

    async def _park(self, refused: list[tuple[OutboxRow, KafkaError]]) -> None:
        """Keeps what the broker refused in `dead_letters` (stage `publish`), so the relay moves on."""
        letters = [
            Rejected(row.topic, -1, row.id, row.key.encode(), row.payload,
                     f"the broker refused the event for good: {describe(error)}", "publish",
                     (("event_type", row.event_type.encode()), ("correlation_id", row.correlation_id.encode())))
            for row, error in refused
        ]
        await record_dead_letters(self._engine, service=self._settings.service_name, rejected=letters)
        for letter in letters:
            self._metrics.events_dead_lettered.labels(letter.topic, "publish").inc()
            log.error("outbox event %d for %s parked: %s", letter.offset, letter.topic, letter.reason)

    async def _pause(self, seconds: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._wake.wait(), timeout=seconds)
