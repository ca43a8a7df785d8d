"""Real components for the integration and end-to-end tests.

One embedded PostgreSQL per test session (each test gets a database of its own), and one Tansu
broker per test: it starts in milliseconds and keeps every test's topics apart. Set
`VIP_POSTGRES_URL` to run against an external PostgreSQL server instead.
"""

import os
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from cli.broker import TansuBroker
from cli.launch import free_port
from cli.postgres import EmbeddedPostgres, ExternalPostgres, postgres_from_env


@pytest.fixture(scope="session")
def postgres(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmbeddedPostgres | ExternalPostgres]:
    external = postgres_from_env(os.environ)
    if external is not None:
        yield external
        return
    server = EmbeddedPostgres()
    server.start(tmp_path_factory.mktemp("pgdata") / "data")
    yield server
    server.stop()


@pytest.fixture
async def database_url(postgres: EmbeddedPostgres | ExternalPostgres) -> str:
    """A fresh, empty database for this test (asyncpg URL)."""
    name = f"t_{uuid.uuid4().hex[:12]}"
    await postgres.create_databases([name])
    return postgres.database_url(name)


@pytest.fixture
def broker(tmp_path: Path) -> Iterator[TansuBroker]:
    tansu = TansuBroker(log_dir=tmp_path)
    tansu.start(free_port())
    yield tansu
    tansu.stop()


@pytest.fixture
def bootstrap_servers(broker: TansuBroker) -> str:
    return broker.bootstrap_servers


@pytest.fixture
async def api_tokens() -> AsyncIterator[dict[str, str]]:
    """Role name -> token, one user per role, plus `dev` with every role."""
    from shared.auth import ROLES

    tokens = {role: f"test-{role}-{uuid.uuid4().hex[:8]}" for role in sorted(ROLES)}
    tokens["dev"] = f"test-dev-{uuid.uuid4().hex[:8]}"
    yield tokens
