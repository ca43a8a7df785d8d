from pydantic import Field

from shared.settings import ServiceSettings


class TieringSettings(ServiceSettings):
    service_name: str = "tiering"
    http_port: int = 8002
    database_url: str = "postgresql+asyncpg://postgres@127.0.0.1:5432/vip_tiering"
    daily_run_batch_size: int = Field(
        default=500, ge=1, description="Customers re-decided per transaction of a daily run."
    )
