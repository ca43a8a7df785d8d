"""Kafka clients configured the way this platform needs them (see guide/measured.md).

aiokafka's defaults are tuned for neither durability nor latency here: `acks=1`, `linger_ms=0`,
16 KB batches and a 500 ms fetch wait. Tansu, the embedded broker, refuses InitProducerId, so the
idempotent producer is a setting (on for Apache Kafka) and correctness never depends on it: the
outbox and the inbox make delivery effectively-once on any broker.

Every client made here (producer, consumer, admin) authenticates the same way, from the process's
`KafkaSecuritySettings`: nothing is added under PLAINTEXT; SASL/SCRAM credentials and an SSL context
otherwise (docs/deployment.md).
"""

import asyncio
import logging
from collections.abc import Iterable
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import KafkaConnectionError, TopicAlreadyExistsError
from aiokafka.helpers import create_ssl_context

from shared.settings import KafkaSecuritySettings, ServiceSettings

log = logging.getLogger(__name__)


def kafka_security_kwargs(security: KafkaSecuritySettings) -> dict[str, Any]:
    """The keyword arguments that make an aiokafka client authenticate as `security` says.

    Empty under PLAINTEXT, so a development client is exactly what it was without security.
    """
    protocol = security.kafka_security_protocol
    if protocol == "PLAINTEXT":
        return {}
    kwargs: dict[str, Any] = {"security_protocol": protocol}
    if protocol in ("SSL", "SASL_SSL"):
        cafile = security.kafka_ssl_cafile
        kwargs["ssl_context"] = create_ssl_context(cafile=str(cafile) if cafile is not None else None)
    if protocol.startswith("SASL_"):
        # aiokafka takes SCRAM credentials under its `sasl_plain_*` names too.
        kwargs["sasl_mechanism"] = security.kafka_sasl_mechanism
        kwargs["sasl_plain_username"] = security.kafka_sasl_username
        kwargs["sasl_plain_password"] = security.kafka_sasl_password.get_secret_value()
    return kwargs


def create_producer(*, settings: ServiceSettings) -> AIOKafkaProducer:
    return AIOKafkaProducer(
        bootstrap_servers=settings.kafka_bootstrap_servers,
        client_id=f"vip-{settings.service_name}",
        acks="all",
        enable_idempotence=settings.kafka_idempotence,
        linger_ms=settings.producer_linger_ms,
        max_batch_size=settings.producer_max_batch_bytes,
        request_timeout_ms=30_000,
        **kafka_security_kwargs(settings),
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
        **kafka_security_kwargs(settings),
    )


async def ensure_topics(
    *, bootstrap_servers: str, topics: Iterable[str], partitions: int, replication_factor: int = 1,
    attempts: int = 30, security: KafkaSecuritySettings | None = None,
) -> None:
    """Create the topics that do not exist yet; safe to call from every process at start.

    `security` defaults to the process's `VIP_KAFKA_SECURITY_*`/`VIP_KAFKA_SASL_*` environment, the
    same variables a service's settings read. Under ACLs a service sees (Describe) only its own
    topics, so it asks for no more than those and creates nothing once the topics exist.
    """
    wanted = list(dict.fromkeys(topics))
    client_security = kafka_security_kwargs(security if security is not None else KafkaSecuritySettings())
    for attempt in range(1, attempts + 1):
        admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap_servers, client_id="vip-admin", **client_security)
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
