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

    kafka_security_protocol: KafkaSecurityProtocol = "PLAINTEXT"
    kafka_sasl_mechanism: KafkaSaslMechanism = "SCRAM-SHA-512"
    kafka_sasl_username: str | None = None
    kafka_sasl_password: SecretStr = SecretStr("")
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
    model_config = SettingsConfigDict(env_prefix="VIP_", extra="ignore", frozen=True)

    service_name: str
    database_url: str
    http_host: str = "127.0.0.1"
    http_port: int

    kafka_bootstrap_servers: str = "127.0.0.1:9092"
    kafka_idempotence: bool = Field(
        default=True,
        description="Idempotent producer: on for Apache Kafka; the embedded Tansu broker refuses it.",
    )
    kafka_partitions: int = 8
    kafka_replication_factor: int = 1
    consumer_group: str | None = None
    consumer_group_prefix: str = Field(
        default="vip", description="groups are <prefix>-<service>; a new prefix replays every topic from the start"
    )
    kafka_session_timeout_ms: int = Field(
        default=10_000, description="Tansu delays a group join by half of it; tests use less."
    )
    kafka_heartbeat_interval_ms: int = 3_000
    fetch_max_wait_ms: int = Field(default=20, description="Tansu answers a waiting fetch only then.")
    batch_max_records: int = 500
    producer_linger_ms: int = 5
    producer_max_batch_bytes: int = 262_144

    relay_batch_size: int = 1000
    relay_poll_interval_ms: int = 200

    api_tokens: SecretStr = SecretStr("")
    ruleset_path: Path = DEFAULT_RULESET_PATH
    group_ruleset_path: Path = Field(
        default=DEFAULT_GROUP_RULESET_PATH, description="the group program's ruleset (rules.md section 9)"
    )
    log_level: str = "INFO"
    log_json: bool = True
    db_pool_size: int = 10
    db_connect_timeout_s: float = 2.0

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
