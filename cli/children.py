"""What each child of `vip up` runs with: its command, its environment and its log file.

A service gets our environment plus its own settings (database, broker, port, tokens); the dashboard
gets the addresses of this run's services.
"""

import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from cli.layout import (
    DASHBOARD_MODULE,
    DASHBOARD_NAME,
    DEFAULT_BROKER_PORT,
    DEFAULT_HTTP_PORT_BASE,
    SERVICES,
    ServiceLayout,
    dashboard_port,
    logs_dir,
)
from cli.postgres import PostgresTarget
from cli.supervisor import ChildSpec
from cli.tokens import TokenSet


@dataclass(frozen=True)
class UpOptions:
    data_dir: Path
    broker_port: int = DEFAULT_BROKER_PORT
    http_port_base: int = DEFAULT_HTTP_PORT_BASE
    ready_timeout_s: float = 120.0
    stop_grace_s: float = 10.0


def child_env(
    *,
    base_env: Mapping[str, str],
    service: ServiceLayout,
    database_url: str,
    bootstrap_servers: str,
    kafka_idempotence: bool | None,
    http_port: int,
    api_tokens: str,
) -> dict[str, str]:
    """The service's environment: ours plus its own settings. `kafka_idempotence=None` leaves the
    inherited value (or the service's default, on for Apache Kafka) alone."""
    env = dict(base_env)
    env.update(
        {
            "VIP_SERVICE_NAME": service.name,
            "VIP_DATABASE_URL": database_url,
            "VIP_KAFKA_BOOTSTRAP_SERVERS": bootstrap_servers,
            "VIP_HTTP_PORT": str(http_port),
            "VIP_API_TOKENS": api_tokens,
            "PYTHONUNBUFFERED": "1",
        }
    )
    if kafka_idempotence is not None:
        env["VIP_KAFKA_IDEMPOTENCE"] = "true" if kafka_idempotence else "false"
    if kafka_idempotence is False:
        # Tansu delays a consumer group's join by half the session timeout: keep start-up quick.
        env.setdefault("VIP_KAFKA_SESSION_TIMEOUT_MS", "6000")
        env.setdefault("VIP_KAFKA_HEARTBEAT_INTERVAL_MS", "1500")
    return env


def child_specs(
    *,
    options: UpOptions,
    postgres: PostgresTarget,
    bootstrap_servers: str,
    kafka_idempotence: bool | None,
    tokens: TokenSet,
    base_env: Mapping[str, str],
) -> list[ChildSpec]:
    return [
        ChildSpec(
            name=service.name,
            argv=(sys.executable, "-m", service.module),
            env=child_env(
                base_env=base_env,
                service=service,
                database_url=postgres.database_url(service.database),
                bootstrap_servers=bootstrap_servers,
                kafka_idempotence=kafka_idempotence,
                http_port=service.port(base=options.http_port_base),
                api_tokens=tokens.api_tokens,
            ),
            log_path=logs_dir(options.data_dir) / f"{service.name}.log",
        )
        for service in SERVICES
    ]


def dashboard_spec(
    *, options: UpOptions, bootstrap_servers: str, tokens: TokenSet, base_env: Mapping[str, str]
) -> ChildSpec:
    """The operations dashboard: it reads the services over HTTP (this run's ports) and the broker."""
    env = dict(base_env)
    env.update({
        "VIP_HTTP_PORT": str(dashboard_port(base=options.http_port_base)),
        "VIP_API_TOKENS": tokens.api_tokens,
        "VIP_KAFKA_BOOTSTRAP_SERVERS": bootstrap_servers,
        "PYTHONUNBUFFERED": "1",
        **{s.url_env_var: f"http://127.0.0.1:{s.port(base=options.http_port_base)}" for s in SERVICES},
    })
    return ChildSpec(
        name=DASHBOARD_NAME,
        argv=(sys.executable, "-m", DASHBOARD_MODULE),
        env=env,
        log_path=logs_dir(options.data_dir) / f"{DASHBOARD_NAME}.log",
    )

