"""The dashboard's settings, from `VIP_*` environment variables like the services'."""

from pydantic import SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class DashboardSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="VIP_", extra="ignore", frozen=True)

    http_host: str = "127.0.0.1"
    http_port: int = 8005
    api_tokens: SecretStr = SecretStr("")
    kafka_bootstrap_servers: str = "127.0.0.1:9092"
    scoring_url: str = "http://127.0.0.1:8001"
    tiering_url: str = "http://127.0.0.1:8002"
    assignment_url: str = "http://127.0.0.1:8003"
    entitlements_url: str = "http://127.0.0.1:8004"
    session_hours: float = 8.0
    cookie_secure: bool = False
    """Mark the session cookie `Secure` (behind HTTPS in production)."""
    log_level: str = "INFO"
    log_json: bool = True

    def service_urls(self) -> dict[str, str]:
        return {
            "scoring": self.scoring_url.rstrip("/"),
            "tiering": self.tiering_url.rstrip("/"),
            "assignment": self.assignment_url.rstrip("/"),
            "entitlements": self.entitlements_url.rstrip("/"),
        }
