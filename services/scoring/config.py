from pydantic import Field

from shared.settings import ServiceSettings


class ScoringSettings(ServiceSettings):
    service_name: str = "scoring"
    http_port: int = 8001
    database_url: str = "postgresql+asyncpg://postgres@127.0.0.1:5432/vip_scoring"
    coalesce_from_policies: int = Field(
        default=100, ge=1,
        description="a customer holding at least this many policies is re-scored and re-decided once per "
        "batch rather than once per event (docs/performance.md: one holder with thousands of policies)",
    )
    daily_run_batch_size: int = Field(
        default=2000, ge=1, description="customers re-scored per transaction of a daily run"
    )
