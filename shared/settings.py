"""Settings shared by every service, read from `VIP_*` environment variables.

One process runs one service, so plain names suffice (`VIP_DATABASE_URL` is the database of the
service in this process). `vip up` and docker-compose give each service process its own values.
"""

from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_RULESET_PATH = Path(__file__).resolve().parent.parent / "rulesets" / "individual-2015.yaml"
DEFAULT_GROUP_RULESET_PATH = Path(__file__).resolve().parent.parent / "rulesets" / "group-example.1.yaml"


KafkaSecurityProtocol = Literal["PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"]
KafkaSaslMechanism = Literal["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"]


class KafkaSecuritySettings(BaseSettings):
    """How a process authenticates to Kafka (`VIP_KAFKA_SECURITY_PROTOCOL`, `VIP_KAFKA_SASL_*`).

    PLAINTEXT, the default, is what `vip up` and the development compose file run. The production
    example (deploy/compose.production.yml) runs SASL/SCRAM-SHA-512 with one user per service, whose
    ACLs allow only that service's topics and consumer group.
    """

    model_config = SettingsConfigDict(env_prefix="VIP_", extra="ignore", frozen=True)

    kafka_security_protocol: KafkaSecurityProtocol = Field(
        default="PLAINTEXT", description="PLAINTEXT, SSL, SASL_PLAINTEXT or SASL_SSL"
    )
    kafka_sasl_mechanism: KafkaSaslMechanism = Field(
        default="SCRAM-SHA-512", description="PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512 (SASL_* protocols)"
    )
    kafka_sasl_username: str | None = Field(default=None, description="the SASL user (one per service in production)")
    kafka_sasl_password: SecretStr = Field(default=SecretStr(""), description="the SASL user's password")
    kafka_ssl_cafile: Path | None = Field(
        default=None, description="CA bundle for SSL/SASL_SSL; the system's trust store when unset"
    )

    @model_validator(mode="after")
    def _sasl_needs_credentials(self) -> "KafkaSecuritySettings":
        if self.kafka_security_protocol.startswith("SASL_") and not (
            self.kafka_sasl_username and self.kafka_sasl_password.get_secret_value()
        ):
            raise ValueError(
                f"VIP_KAFKA_SECURITY_PROTOCOL={self.kafka_security_protocol} needs "
                "VIP_KAFKA_SASL_USERNAME and VIP_KAFKA_SASL_PASSWORD"
            )
        return self


class ServiceSettings(KafkaSecuritySettings):
    """A service process's settings; every field has a `description`, the meaning column of docs/settings.md."""

    model_config = SettingsConfigDict(env_prefix="VIP_", extra="ignore", frozen=True)

    service_name: str = Field(description="the service this process runs (each service's settings default it)")
    database_url: str = Field(description="the service's own PostgreSQL database (SQLAlchemy asyncpg URL)")
    http_host: str = Field(default="127.0.0.1", description="the address the HTTP API listens on")
    http_port: int = Field(description="the port the HTTP API listens on")

    kafka_bootstrap_servers: str = Field(default="127.0.0.1:9092", description="the Kafka brokers, host:port,...")
    kafka_idempotence: bool = Field(
        default=True,
        description="Idempotent producer: on for Apache Kafka; the embedded Tansu broker refuses it.",
    )
    kafka_replication_factor: int | None = Field(
        default=None, ge=1,
        description="overrides the declared replication factor of topics this service creates "
        "(shared/topic_config.py: 3, lowered to the number of brokers on a smaller cluster)",
    )
    kafka_production: bool = Field(
        default=False,
        description="production: refuse to start on a topic with replication factor 1 (to be created or existing)",
    )
    kafka_isolation_level: Literal["read_committed", "read_uncommitted"] = Field(
        default="read_committed",
        description="what consumers read: committed records only (Tansu, without transactions, reads all the same)",
    )
    consumer_group: str | None = Field(default=None, description="the consumer group; unset: <prefix>-<service>")
    consumer_group_prefix: str = Field(
        default="vip", description="groups are <prefix>-<service>; a new prefix replays every topic from the start"
    )
    kafka_session_timeout_ms: int = Field(
        default=10_000, description="Tansu delays a group join by half of it; tests use less."
    )
    kafka_heartbeat_interval_ms: int = Field(default=3_000, description="consumer heartbeats to the group coordinator")
    fetch_max_wait_ms: int = Field(default=20, description="Tansu answers a waiting fetch only then.")
    batch_max_records: int = Field(default=500, description="records one consumer batch (one transaction) takes")
    producer_linger_ms: int = Field(default=5, description="how long the producer waits to fill a batch")
    producer_max_batch_bytes: int = Field(default=262_144, description="the producer's largest batch per partition")

    relay_batch_size: int = Field(default=1000, description="outbox rows the relay publishes per round")
    relay_poll_interval_ms: int = Field(
        default=200, description="how often the relay looks for outbox rows when no commit woke it"
    )

    api_tokens: SecretStr = Field(
        default=SecretStr(""), description="bearer tokens and their roles: token=role1+role2[@BRANCH],..."
    )
    ruleset_path: Path = Field(default=DEFAULT_RULESET_PATH, description="the individual program's ruleset (YAML)")
    group_ruleset_path: Path = Field(
        default=DEFAULT_GROUP_RULESET_PATH, description="the group program's ruleset (rules.md section 9)"
    )
    log_level: str = Field(default="INFO", description="DEBUG, INFO, WARNING or ERROR")
    log_json: bool = Field(default=True, description="one JSON object per log line (false: plain text)")
    gc_young_threshold: int = Field(
        default=50_000, ge=0,
        description="allocations between young garbage collections (CPython's default: 700); 0 keeps "
        "the interpreter's own (docs/performance.md: the services' garbage collection)",
    )
    db_pool_size: int = Field(
        default=10, ge=1,
        description="database connections kept open; up to twice as many at peak (docs/deployment.md, budget)",
    )
    db_connect_timeout_s: float = Field(
        default=2.0, description="how long a request waits for the database before answering 503"
    )
    run_migrations: bool = Field(
        default=True,
        description="migrate the database at start; false where a job runs `python -m shared.migrate <service>` "
        "first (Kubernetes): the service then refuses a database not at its migrations' head",
    )

    inbox_retention_days: float = Field(
        default=14, gt=0,
        description="inbox rows older than this are deleted: at least the inbound topics' retention plus a margin",
    )
    inbox_purge_interval_s: float = Field(default=3600, gt=0, description="how often the inbox purge runs")

    http_rate_per_s: float = Field(
        default=100, description="requests per second one token may make, sustained (0: no limit); beyond: 429"
    )
    http_rate_burst: int = Field(default=200, ge=1, description="requests one token may make at once")
    audit_flush_s: float = Field(default=0.5, gt=0, description="how often buffered audit rows are written")

    daily_run_batch_size: int = Field(default=1000, ge=1, description="items changed per transaction of a daily run")
    allow_future_daily_run: bool = Field(
        default=False, description="test environments only: a daily run may be dated after tomorrow"
    )

    @property
    def group_id(self) -> str:
        return self.consumer_group or f"{self.consumer_group_prefix}-{self.service_name}"
