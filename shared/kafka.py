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
from dataclasses import replace
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType
from aiokafka.errors import KafkaConnectionError, KafkaError, TopicAlreadyExistsError
from aiokafka.helpers import create_ssl_context

from shared.settings import KafkaSecuritySettings, ServiceSettings
from shared.topic_config import TopicConfig, declared, differences, refuse_unreplicated

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
        isolation_level=settings.kafka_isolation_level,
        **kafka_security_kwargs(settings),
    )


async def ensure_topics(
    *, bootstrap_servers: str, topics: Iterable[str], partitions: int | None = None,
    replication_factor: int | None = None, production: bool = False,
    attempts: int = 30, security: KafkaSecuritySettings | None = None,
) -> list[str]:
    """Create the missing topics as `shared.topic_config` declares them, check the existing ones, and
    return what differs from the declaration (each difference is logged as a warning too).

    Safe to call from every process at start. `partitions` is for names the declaration does not know
    (tests); `replication_factor` overrides the declared one (`VIP_KAFKA_REPLICATION_FACTOR`). A
    cluster with fewer brokers than the replication factor gets topics as replicated as it can hold,
    with a warning, unless `production` (`VIP_KAFKA_PRODUCTION`): then a topic with replication factor
    1, to be created or existing, stops the start with `TopicConfigurationError`.

    `security` defaults to the process's `VIP_KAFKA_SECURITY_*`/`VIP_KAFKA_SASL_*` environment, the
    same variables a service's settings read. Under ACLs a service sees (Describe) only its own
    topics, so it asks for no more than those and creates nothing once the topics exist.
    """
    wanted = [declared(name, partitions=partitions) for name in dict.fromkeys(topics)]
    if replication_factor is not None:
        wanted = [replace(config, replication_factor=replication_factor) for config in wanted]
    client_security = kafka_security_kwargs(security if security is not None else KafkaSecuritySettings())
    for attempt in range(1, attempts + 1):
        admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap_servers, client_id="vip-admin", **client_security)
        try:
            await admin.start()
            return await _reconcile(admin, wanted=wanted, production=production)
        except KafkaConnectionError:
            if attempt == attempts:
                raise
            log.warning("broker not reachable yet (attempt %d/%d)", attempt, attempts)
            await asyncio.sleep(min(0.2 * attempt, 2.0))
        finally:
            await admin.close()
    raise AssertionError("unreachable")


async def _reconcile(admin: AIOKafkaAdminClient, *, wanted: list[TopicConfig], production: bool) -> list[str]:
    brokers = len((await admin.describe_cluster()).get("brokers", ())) or 1
    fitted = [config.on_brokers(brokers) for config in wanted]
    if production:
        refuse_unreplicated([(config.name, config.replication_factor) for config in fitted])
    lowered = [fit.name for fit, chosen in zip(fitted, wanted, strict=True)
               if fit.replication_factor < chosen.replication_factor]
    if lowered:
        log.warning("%d broker(s): %d topics get replication factor %d, below the declared one (not for production)",
                    brokers, len(lowered), brokers)
    existing = set(await admin.list_topics())
    missing = [config for config in fitted if config.name not in existing]
    if missing:
        try:
            await admin.create_topics([
                NewTopic(config.name, config.partitions, config.replication_factor, topic_configs=config.configs)
                for config in missing
            ])
        except TopicAlreadyExistsError:
            log.info("topics created concurrently by another process", extra={"topics": [c.name for c in missing]})
    present = [config for config in fitted if config.name in existing]
    found = await _differences(admin, present, production=production) if present else []
    for difference in found:
        log.warning("topic configuration differs: %s", difference)
    return found


async def _differences(admin: AIOKafkaAdminClient, present: list[TopicConfig], *, production: bool) -> list[str]:
    """What the existing topics do differently from their (fitted) declaration."""
    described = {item["topic"]: item for item in await admin.describe_topics([c.name for c in present])}
    replication = {
        name: min((len(p["replicas"]) for p in item.get("partitions", ())), default=0)
        for name, item in described.items()
    }
    if production:
        refuse_unreplicated([(config.name, replication.get(config.name, 0)) for config in present])
    try:
        responses = await admin.describe_configs([ConfigResource(ConfigResourceType.TOPIC, c.name) for c in present])
    except KafkaError as error:
        log.warning("cannot read the topics' configuration to check it: %r", error)
        responses = []
    configs: dict[str, dict[str, str]] = {}
    for response in responses:
        for resource in response.resources:
            configs[resource[3]] = {entry[0]: entry[1] for entry in resource[4]}
    found: list[str] = []
    for config in present:
        item = described.get(config.name, {})
        found += differences(
            config, partitions=len(item.get("partitions", ())), replication_factor=replication.get(config.name, 0),
            configs=configs.get(config.name, {}),
        )
    return found
