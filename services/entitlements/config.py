from shared.settings import ServiceSettings


class EntitlementsSettings(ServiceSettings):
    service_name: str = "entitlements"
    http_port: int = 8004
    database_url: str = "postgresql+asyncpg://postgres@127.0.0.1:5432/vip_entitlements"
