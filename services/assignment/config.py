from shared.settings import ServiceSettings


class AssignmentSettings(ServiceSettings):
    service_name: str = "assignment"
    http_port: int = 8003
    database_url: str = "postgresql+asyncpg://postgres@127.0.0.1:5432/vip_assignment"
