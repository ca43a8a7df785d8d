from pydantic import Field

from shared.settings import ServiceSettings


class ScoringSettings(ServiceSettings):
    service_name: str = "scoring"
    http_port: int = 8001
    database_url: str = "postgresql+asyncpg://postgres@127.0.0.1:5432/vip_scoring"
    daily_run_batch_size: int = Field(
        default=2000, ge=1, description="customers re-scored per transaction of a daily run"
    )
