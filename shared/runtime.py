"""What runs behind every service's HTTP app: migrations, topics, consumer loop and outbox relay."""

import asyncio
import logging
from collections.abc import Coroutine, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Generic

from aiokafka import AIOKafkaProducer
from sqlalchemy import text

from shared.audit import AuditTrail
from shared.consumer import BatchConsumer
from shared.db import Transactions, U
from shared.dead_letters import DeadLetters
from shared.failures import describe, is_transient
from shared.inbox import purge_inbox
from shared.kafka import create_producer, ensure_topics
from shared.metrics import ServiceMetrics
from shared.migrations import upgrade_to_head
from shared.processing import Route
from shared.relay import OutboxRelay
from shared.settings import ServiceSettings
from shared.topics import dead_letter_topic_for

log = logging.getLogger(__name__)


class ServiceRuntime(Generic[U]):
    def __init__(
        self,
        *,
        settings: ServiceSettings,
        transactions: Transactions[U],
        routes: Sequence[Route[U]],
        publishes_to: Sequence[str],
        migrations_dir: Path,
        metrics: ServiceMetrics,
    ) -> None:
        self.settings = settings
        self.transactions = transactions
        self.metrics = metrics
        self._routes = routes
        self._publishes_to = publishes_to
        self._migrations_dir = migrations_dir
        self._tasks: list[asyncio.Task[None]] = []
        self._producer: AIOKafkaProducer | None = None
        self.relay: OutboxRelay | None = None
        self.audit = AuditTrail(engine=transactions.engine, flush_s=settings.audit_flush_s)
        self.consumer: BatchConsumer[U] | None = None
        self.started_at = datetime.now(UTC)
        """When this process began counting (`GET /v1/ops/pipeline`'s counters start at zero then)."""

    async def start(self) -> None:
        await upgrade_to_head(engine=self.transactions.engine, migrations_dir=self._migrations_dir)
        consumed = [route.topic for route in self._routes]
        await ensure_topics(
            bootstrap_servers=self.settings.kafka_bootstrap_servers,
            topics=[*consumed, *map(dead_letter_topic_for, consumed), *self._publishes_to],
            partitions=self.settings.kafka_partitions,
            replication_factor=self.settings.kafka_replication_factor,
        )
        # aiokafka clients must be created inside the running event loop.
        producer = self._producer = create_producer(settings=self.settings)
        await producer.start()
        relay = self.relay = OutboxRelay(
            settings=self.settings, engine=self.transactions.engine, producer=producer, metrics=self.metrics
        )
        self.transactions.wake_after_commit(relay.wake)
        consumer = self.consumer = BatchConsumer(
            settings=self.settings,
            routes=self._routes,
            transactions=self.transactions,
            dead_letters=DeadLetters(
                producer=producer, engine=self.transactions.engine, service=self.settings.service_name,
                metrics=self.metrics,
            ),
            metrics=self.metrics,
        )
        self._tasks = [
            asyncio.create_task(self._supervised("consumer", consumer.run())),
            asyncio.create_task(self._supervised("relay", relay.run())),
            asyncio.create_task(self._supervised("inbox purge", self._purge_inbox_periodically())),
            asyncio.create_task(self._supervised("audit", self.audit.run())),
        ]
        log.info("%s started", self.settings.service_name)

    async def _purge_inbox_periodically(self) -> None:
        """Deletes inbox rows past the retention, every `inbox_purge_interval_s`; an outage skips a round."""
        retention = timedelta(days=self.settings.inbox_retention_days)
        while True:
            try:
                purged = await purge_inbox(self.transactions.engine, older_than=retention)
            except Exception as error:
                if not is_transient(error):
                    raise
                log.warning("inbox purge skipped this round: %s", describe(error))
            else:
                if purged:
                    log.info("inbox purge: %d rows older than %s deleted", purged, retention)
            await asyncio.sleep(self.settings.inbox_purge_interval_s)

    async def _supervised(self, name: str, work: Coroutine[Any, Any, None]) -> None:
        """A loop that dies takes the process down, so the supervisor restarts it cleanly."""
        try:
            await work
        except asyncio.CancelledError:
            raise
        except BaseException:
            log.critical("%s loop failed; stopping the service", name, exc_info=True)
            raise SystemExit(3) from None

    async def stop(self) -> None:
        if self.consumer is not None:
            self.consumer.stop()
        if self.relay is not None:
            self.relay.stop()
        for task in self._tasks[2:]:
            task.cancel()  # the purge and the audit writer only sleep between rounds (the audit flushes on cancel)
        _done, pending = await asyncio.wait(self._tasks, timeout=10) if self._tasks else (set(), set())
        for task in pending:
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)
        if self._producer is not None:
            await self._producer.stop()
        await self.transactions.engine.dispose()

    async def send_raw(
        self, topic: str, *, value: bytes, key: bytes | None, headers: list[tuple[str, bytes]], partition: int
    ) -> None:
        """Publish bytes as they are to one partition (a dead letter's replay), and wait for the broker."""
        if self._producer is None:
            raise RuntimeError("the service has not started")
        await self._producer.send_and_wait(topic, value=value, key=key, headers=headers, partition=partition)

    def loops_running(self) -> bool:
        return bool(self._tasks) and not any(task.done() for task in self._tasks)

    async def database_reachable(self) -> bool:
        try:
            async with asyncio.timeout(self.settings.db_connect_timeout_s):
                async with self.transactions.engine.connect() as connection:
                    await connection.execute(text("SELECT 1"))
        except Exception:
            log.warning("readiness: database unreachable", exc_info=True)
            return False
        return True
