"""Every topic's configuration, as code: the one place partitions, replication, retention, compaction
and compression are decided (`ensure_topics` creates topics with it and checks existing ones).

- Inbound topics (`pas.*`, `hr.*`, `crm.*`) keep 7 days: the producers' systems are the record;
  the inbox keeps ids for longer (`VIP_INBOX_RETENTION_DAYS`, 14) so a redelivery inside the
  retention is always recognised.
- Internal topics carry full state keyed by customer or client (`shared.events.internal`,
  `shared.events.group`), so they are compacted: the broker keeps at least the last event per key,
  which is all a consumer rebuilding from the start needs.
- Dead-letter topics are never compacted (two letters of one key are two different failures) and
  keep 30 days; the durable copy is the service's own database.
- Replication factor 3 with `min.insync.replicas` 2: with `acks=all` one broker may be lost without
  losing a committed event. On a cluster with fewer brokers (the embedded broker of `vip up` has one)
  both are lowered to the number of brokers, with a warning; `VIP_KAFKA_PRODUCTION=true` refuses that.
- Compression `gzip` on the broker: every aiokafka consumer reads it without an extra library
  (zstd, lz4 and snappy would each need one in every client).
"""

from dataclasses import dataclass, field

from shared.topics import DLQ_SUFFIX, INBOUND_TOPICS, INTERNAL_TOPICS, all_topics

PARTITIONS = 8
"""One customer's events stay on one partition (the key); 8 lets up to 8 instances of a service share a topic."""
REPLICATION_FACTOR = 3
MIN_INSYNC_REPLICAS = 2
COMPRESSION = "gzip"
_DAY_MS = 24 * 3600 * 1000


@dataclass(frozen=True, slots=True)
class TopicConfig:
    name: str
    partitions: int = PARTITIONS
    replication_factor: int = REPLICATION_FACTOR
    configs: dict[str, str] = field(default_factory=dict)
    """Broker-side topic settings (`cleanup.policy`, `retention.ms`, `min.insync.replicas`, `compression.type`)."""

    def on_brokers(self, brokers: int) -> "TopicConfig":
        """The same topic on a cluster of `brokers` (fewer than the replication factor: lowered to fit)."""
        if brokers >= self.replication_factor:
            return self
        min_insync = min(int(self.configs.get("min.insync.replicas", "1")), brokers)
        return TopicConfig(
            name=self.name, partitions=self.partitions, replication_factor=max(brokers, 1),
            configs={**self.configs, "min.insync.replicas": str(max(min_insync, 1))},
        )


def _config(*, cleanup_policy: str, retention_days: int | None) -> dict[str, str]:
    return {
        "cleanup.policy": cleanup_policy,
        "retention.ms": str(retention_days * _DAY_MS) if retention_days is not None else "-1",
        "min.insync.replicas": str(MIN_INSYNC_REPLICAS),
        "compression.type": COMPRESSION,
    }


def topic_config_for(topic: str) -> TopicConfig:
    """The declared configuration of one of the platform's topics (`ValueError` for any other name)."""
    if topic.endswith(DLQ_SUFFIX) and topic in all_topics():
        return TopicConfig(name=topic, configs=_config(cleanup_policy="delete", retention_days=30))
    if topic in INBOUND_TOPICS:
        return TopicConfig(name=topic, configs=_config(cleanup_policy="delete", retention_days=7))
    if topic in INTERNAL_TOPICS:
        return TopicConfig(name=topic, configs=_config(cleanup_policy="compact", retention_days=None))
    raise ValueError(f"{topic} is not one of the platform's topics (shared/topics.py)")


TOPIC_CONFIGS: tuple[TopicConfig, ...] = tuple(topic_config_for(topic) for topic in all_topics())


class TopicConfigurationError(RuntimeError):
    """The cluster's topics cannot be trusted with production data (`VIP_KAFKA_PRODUCTION=true`)."""


def declared(topic: str, *, partitions: int | None = None) -> TopicConfig:
    """The declaration of a platform topic; any other name (a test's) gets `partitions` and no settings."""
    try:
        return topic_config_for(topic)
    except ValueError:
        return TopicConfig(name=topic, partitions=partitions or PARTITIONS, replication_factor=1)


def differences(wanted: TopicConfig, *, partitions: int, replication_factor: int, configs: dict[str, str]) -> list[str]:
    """What an existing topic does differently from its declaration, one sentence each."""
    found = []
    if partitions != wanted.partitions:
        found.append(f"{wanted.name}: {partitions} partitions, declared {wanted.partitions}")
    if replication_factor != wanted.replication_factor:
        found.append(f"{wanted.name}: replication factor {replication_factor}, declared {wanted.replication_factor}")
    for name, value in sorted(wanted.configs.items()):
        actual = configs.get(name)
        if actual is not None and actual != value:
            found.append(f"{wanted.name}: {name}={actual}, declared {value}")
    return found


def refuse_unreplicated(topics: list[tuple[str, int]]) -> None:
    """Production refuses a topic whose every event lives on one broker: losing that disk loses them."""
    single = sorted(name for name, replication_factor in topics if replication_factor < 2)
    if single:
        raise TopicConfigurationError(
            f"VIP_KAFKA_PRODUCTION=true but {len(single)} topic(s) have replication factor 1 "
            f"({', '.join(single[:5])}{', ...' if len(single) > 5 else ''}): one broker's loss would lose "
            "their events. Recreate them with the declared replication factor (shared/topic_config.py) "
            "on a cluster of at least 3 brokers, or unset VIP_KAFKA_PRODUCTION for a test cluster."
        )
