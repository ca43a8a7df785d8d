"""Where each service of the platform lives on one machine: its port, its database, its data files.

`vip up`, `vip daily-run` and the test fixtures read the same table, so a port or a database name is
changed here once. Ports follow interfaces.md: scoring 8001, tiering 8002, assignment 8003,
entitlements 8004 (base 8001 plus the service's offset).
"""

import os
from dataclasses import dataclass
from pathlib import Path

DEFAULT_DATA_DIR = Path(".vip-data")
DEFAULT_HTTP_PORT_BASE = 8001
DEFAULT_BROKER_PORT = 9092
DEFAULT_BOOTSTRAP_SERVERS = f"127.0.0.1:{DEFAULT_BROKER_PORT}"


@dataclass(frozen=True)
class ServiceLayout:
    name: str
    port_offset: int

    @property
    def database(self) -> str:
        return f"vip_{self.name}"

    @property
    def module(self) -> str:
        """The module run with `python -m`; each service starts from its own `main`."""
        return f"services.{self.name}.main"

    @property
    def url_env_var(self) -> str:
        """Overrides the service's base URL for clients such as `vip daily-run`."""
        return f"VIP_{self.name.upper()}_URL"

    def port(self, *, base: int) -> int:
        return base + self.port_offset


SERVICES: tuple[ServiceLayout, ...] = (
    ServiceLayout(name="scoring", port_offset=0),
    ServiceLayout(name="tiering", port_offset=1),
    ServiceLayout(name="assignment", port_offset=2),
    ServiceLayout(name="entitlements", port_offset=3),
)
SERVICES_BY_NAME = {service.name: service for service in SERVICES}

DASHBOARD_NAME = "dashboard"
DASHBOARD_MODULE = "dashboard.main"
DASHBOARD_PORT_OFFSET = 4
"""The operations dashboard (`dashboard/`) runs beside the services on base+4 (8005 by default)."""


def dashboard_port(*, base: int) -> int:
    return base + DASHBOARD_PORT_OFFSET
DATABASES: tuple[str, ...] = tuple(service.database for service in SERVICES)


def service_base_url(*, service: ServiceLayout, http_port_base: int) -> str:
    """The service's own URL variable wins, so a client can reach a platform not on 127.0.0.1."""
    explicit = os.environ.get(service.url_env_var)
    if explicit:
        return explicit.rstrip("/")
    return f"http://127.0.0.1:{service.port(base=http_port_base)}"


def tokens_file(data_dir: Path) -> Path:
    return data_dir / "tokens.env"


def logs_dir(data_dir: Path) -> Path:
    return data_dir / "logs"


def postgres_dir(data_dir: Path) -> Path:
    return data_dir / "postgres"
