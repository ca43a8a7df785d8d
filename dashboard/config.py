"""The dashboard's settings, from `VIP_*` environment variables like the services'."""

from pathlib import Path

from pydantic import SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from dashboard.guards import is_loopback
from shared.settings import DEFAULT_RULESET_PATH


class DashboardSettings(BaseSettings):
    """Every field's docstring is its meaning in docs/settings.md (`use_attribute_docstrings`)."""

    model_config = SettingsConfigDict(env_prefix="VIP_", extra="ignore", frozen=True, use_attribute_docstrings=True)

    http_host: str = "127.0.0.1"
    """The address the dashboard listens on."""
    http_port: int = 8005
    """The port the dashboard listens on."""
    api_tokens: SecretStr = SecretStr("")
    """The same tokens as the services': a user logs in with a token holding the ops role."""
    kafka_bootstrap_servers: str = "127.0.0.1:9092"
    """The Kafka brokers, for the dead-letter topics' view."""
    scoring_url: str = "http://127.0.0.1:8001"
    """Where the dashboard reaches the scoring service."""
    tiering_url: str = "http://127.0.0.1:8002"
    """Where the dashboard reaches the tiering service."""
    assignment_url: str = "http://127.0.0.1:8003"
    """Where the dashboard reaches the assignment service."""
    entitlements_url: str = "http://127.0.0.1:8004"
    """Where the dashboard reaches the entitlements service."""
    ruleset_path: Path = DEFAULT_RULESET_PATH
    """The services' ruleset (`VIP_RULESET_PATH`, as theirs): the customer page shows its thresholds."""
    session_hours: float = 8.0
    """How long a dashboard login lasts."""
    cookie_secure: bool | None = None
    """Mark the session cookie `Secure`; unset, it is marked unless the dashboard listens on loopback only
    (anywhere else it is meant to be reached through HTTPS)."""
    login_attempts_per_minute: int = 10
    """Login attempts per minute per client address; more answer 429 (behind a proxy every client shares the
    proxy's address)."""
    login_body_max_bytes: int = 2048
    """The largest login form accepted."""
    log_level: str = "INFO"
    """DEBUG, INFO, WARNING or ERROR."""
    log_json: bool = True
    """One JSON object per log line (false: plain text)."""

    def secure_cookies(self) -> bool:
        if self.cookie_secure is not None:
            return self.cookie_secure
        return not is_loopback(self.http_host)

    def service_urls(self) -> dict[str, str]:
        return {
            "scoring": self.scoring_url.rstrip("/"),
            "tiering": self.tiering_url.rstrip("/"),
            "assignment": self.assignment_url.rstrip("/"),
            "entitlements": self.entitlements_url.rstrip("/"),
        }
