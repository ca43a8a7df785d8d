"""The former home of the local servers, kept so that old imports still resolve.

New code imports from where each lives: `cli.postgres` (PostgreSQL), `cli.broker` (Tansu) and
`cli.launch` (ports, log tails, liveness). `tests/support.py` still imports `free_port` from here.
"""

from cli.broker import KAFKA_BOOTSTRAP_VAR, TansuBroker
from cli.launch import LaunchError, free_port, log_tail, port_is_free, process_alive
from cli.postgres import (
    POSTGRES_URL_VAR,
    EmbeddedPostgres,
    ExternalPostgres,
    PostgresTarget,
    asyncpg_database_url,
    create_databases,
    libpq_database_url,
    postgres_from_env,
)

__all__ = [
    "KAFKA_BOOTSTRAP_VAR",
    "POSTGRES_URL_VAR",
    "EmbeddedPostgres",
    "ExternalPostgres",
    "LaunchError",
    "PostgresTarget",
    "TansuBroker",
    "asyncpg_database_url",
    "create_databases",
    "free_port",
    "libpq_database_url",
    "log_tail",
    "port_is_free",
    "postgres_from_env",
    "process_alive",
]
