"""Kafka clients configured the way this platform needs them (see guide/measured.md).

aiokafka's defaults are tuned for neither durability nor latency here: `acks=1`, `linger_ms=0`,
16 KB batches and a 500 ms fetch wait. Tansu, the embedded broker, refuses InitProducerId, so the
idempotent producer is a setting (on for Apache Kafka) and correctness never depends on it: the
outbox and the inbox make delivery effectively-once on any broker.
"""

import asyncio
import logging
from collections.abc import Iterable

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import KafkaConnectionError, TopicAlreadyExistsError

from shared.settings import ServiceSettings

log = logging.getLogger(__name__)


def create_producer(*, settings: ServiceSettings) -> AIOKafkaProducer:
    return AIOKafkaProducer(
        bootstrap_servers=settings.kafka_bootstrap_servers,
        client_id=f"vip-{settings.service_name}",
        acks="all",
        enable_idempotence=settings.kafka_idempotence,
        linger_ms=settings.producer_linger_ms,
        max_batch_size=settings.producer_max_batch_bytes,
        request_timeout_ms=30_000,
    )


def create_consumer(*, settings: ServiceSettings) -> AIOKafkaConsumer:
    """A consumer that never commits by itself: offsets are committed after the database commit.

    The caller subscribes it, with a rebalance listener.
    """
    return AIOKafkaConsumer(
        bootstrap_servers=settings.kafka_bootstrap_servers,
        client_id=f"vip-{settings.service_name}",
        group_id=settings.group_id,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        fetch_max_wait_ms=settings.fetch_max_wait_ms,
        max_poll_records=settings.batch_max_records,
        session_timeout_ms=settings.kafka_session_timeout_ms,
        heartbeat_interval_ms=settings.kafka_heartbeat_interval_ms,
        isolation_level="read_uncommitted",
    )


async def ensure_topics(
    *, bootstrap_servers: str, topics: Iterable[str], partitions: int, replication_factor: int = 1,
    attempts: int = 30,
) -> None:
    """Create the topics that do not exist yet; safe to call from every process at start."""
    wanted = list(dict.fromkeys(topics))
    for attempt in range(1, attempts + 1):
        admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap_servers, client_id="vip-admin")
        try:
            await admin.start()
            existing = set(await admin.list_topics())
            missing = [name for name in wanted if name not in existing]
            if missing:
                try:
                    await admin.create_topics(
                        [NewTopic(name, partitions, replication_factor) for name in missing]
                    )
                except TopicAlreadyExistsError:
                    log.info("topics created concurrently by another process", extra={"topics": missing})
            return
        except KafkaConnectionError:
            if attempt == attempts:
                raise
            log.warning("broker not reachable yet (attempt %d/%d)", attempt, attempts)
            await asyncio.sleep(min(0.2 * attempt, 2.0))
        finally:
            await admin.close()
