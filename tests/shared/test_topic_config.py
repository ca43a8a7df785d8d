"""Topic configuration as code (shared/topic_config.py): what each topic is declared with, how
`ensure_topics` creates and checks topics on a real (embedded) broker, and the production refusal."""

import pytest
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType

from shared.kafka import ensure_topics
from shared.settings import ServiceSettings
from shared.topic_config import TOPIC_CONFIGS, TopicConfigurationError, differences, topic_config_for
from shared.topics import (
    CUSTOMER_SCORES,
    GROUP_CLIENTS,
    INBOUND_TOPICS,
    INTERNAL_TOPICS,
    POLICY_EVENTS,
    TIER_DECISIONS,
    all_topics,
    dead_letter_topic_for,
)


@pytest.mark.parametrize(
    ("topic", "cleanup", "retention_ms"),
    [
        (POLICY_EVENTS, "delete", str(7 * 86_400_000)),
        (CUSTOMER_SCORES, "compact", "-1"),
        (TIER_DECISIONS, "compact", "-1"),
        (GROUP_CLIENTS, "compact", "-1"),
        (dead_letter_topic_for(CUSTOMER_SCORES), "delete", str(30 * 86_400_000)),
        (dead_letter_topic_for(POLICY_EVENTS), "delete", str(30 * 86_400_000)),
    ],
)
def test_each_topic_is_declared_with_its_retention_and_cleanup(topic: str, cleanup: str, retention_ms: str) -> None:
    config = topic_config_for(topic)
    assert (config.configs["cleanup.policy"], config.configs["retention.ms"]) == (cleanup, retention_ms)
    assert (config.partitions, config.replication_factor, config.configs["min.insync.replicas"]) == (8, 3, "2")
    assert config.configs["compression.type"] == "gzip"


def test_every_topic_is_declared_once_and_no_dead_letter_topic_is_compacted() -> None:
    assert [config.name for config in TOPIC_CONFIGS] == list(all_topics())
    compacted = {config.name for config in TOPIC_CONFIGS if config.configs["cleanup.policy"] == "compact"}
    assert compacted == set(INTERNAL_TOPICS)
    assert not compacted & set(INBOUND_TOPICS)


def test_an_unknown_topic_is_refused() -> None:
    with pytest.raises(ValueError, match="not one of the platform's topics"):
        topic_config_for("vip.nothing.v1")


def test_a_smaller_cluster_lowers_replication_and_min_insync_to_fit() -> None:
    on_one = topic_config_for(CUSTOMER_SCORES).on_brokers(1)
    assert (on_one.replication_factor, on_one.configs["min.insync.replicas"]) == (1, "1")
    assert topic_config_for(CUSTOMER_SCORES).on_brokers(5) == topic_config_for(CUSTOMER_SCORES)


def test_differences_name_each_setting_that_differs() -> None:
    wanted = topic_config_for(CUSTOMER_SCORES)
    found = differences(
        wanted, partitions=4, replication_factor=3,
        configs={**wanted.configs, "cleanup.policy": "delete", "unrelated": "x"},
    )
    assert found == [
        f"{CUSTOMER_SCORES}: 4 partitions, declared 8",
        f"{CUSTOMER_SCORES}: cleanup.policy=delete, declared compact",
    ]


def test_consumers_read_committed_records_by_default() -> None:
    settings = ServiceSettings(service_name="scoring", database_url="postgresql+asyncpg://x/y", http_port=1)
    assert settings.kafka_isolation_level == "read_committed"


async def _topic_configs(bootstrap_servers: str, topic: str) -> dict[str, str]:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap_servers)
    await admin.start()
    try:
        [response] = await admin.describe_configs([ConfigResource(ConfigResourceType.TOPIC, topic)])
        return {entry[0]: entry[1] for resource in response.resources for entry in resource[4]}
    finally:
        await admin.close()


async def test_ensure_topics_creates_topics_as_declared(bootstrap_servers: str) -> None:
    assert await ensure_topics(bootstrap_servers=bootstrap_servers, topics=[TIER_DECISIONS, POLICY_EVENTS]) == []
    tiers = await _topic_configs(bootstrap_servers, TIER_DECISIONS)
    assert tiers["cleanup.policy"] == "compact"
    assert tiers["min.insync.replicas"] == "1"  # one broker: lowered to fit
    assert (await _topic_configs(bootstrap_servers, POLICY_EVENTS))["retention.ms"] == str(7 * 86_400_000)


async def test_an_existing_topic_configured_otherwise_is_reported(bootstrap_servers: str) -> None:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap_servers)
    await admin.start()
    try:
        await admin.create_topics([NewTopic(CUSTOMER_SCORES, 2, 1, topic_configs={"cleanup.policy": "delete"})])
    finally:
        await admin.close()
    found = await ensure_topics(bootstrap_servers=bootstrap_servers, topics=[CUSTOMER_SCORES])
    assert f"{CUSTOMER_SCORES}: 2 partitions, declared 8" in found
    assert f"{CUSTOMER_SCORES}: cleanup.policy=delete, declared compact" in found


async def test_production_refuses_a_single_broker_cluster(bootstrap_servers: str) -> None:
    with pytest.raises(TopicConfigurationError, match="replication factor 1"):
        await ensure_topics(bootstrap_servers=bootstrap_servers, topics=[CUSTOMER_SCORES], production=True)


async def test_production_refuses_an_existing_unreplicated_topic(bootstrap_servers: str) -> None:
    await ensure_topics(bootstrap_servers=bootstrap_servers, topics=[POLICY_EVENTS])
    with pytest.raises(TopicConfigurationError, match=POLICY_EVENTS):
        await ensure_topics(
            bootstrap_servers=bootstrap_servers, topics=[POLICY_EVENTS], production=True, replication_factor=1,
        )

