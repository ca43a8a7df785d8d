"""The migration job of a Kubernetes deployment: `python -m shared.migrate <service>`, then the service
started with `VIP_RUN_MIGRATIONS=false`, which refuses a database the job has not migrated."""

import os
import subprocess
import sys

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from services.scoring.config import ScoringSettings
from services.scoring.main import create_app
from shared.migrations import NotMigrated
from tests.support import running, service_settings

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def _migrate(*arguments: str, database_url: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "VIP_DATABASE_URL": database_url, "PYTHONPATH": ROOT}
    return subprocess.run([sys.executable, "-m", "shared.migrate", *arguments], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=120, check=False)


async def _tables(database_url: str) -> set[str]:
    engine = create_async_engine(database_url)
    try:
        async with engine.connect() as connection:
            rows = await connection.execute(text("SELECT tablename FROM pg_tables WHERE schemaname = 'public'"))
            return {row[0] for row in rows}
    finally:
        await engine.dispose()


async def test_the_job_migrates_once_and_the_service_then_starts_without_migrating(
    database_url: str, bootstrap_servers: str, api_tokens: dict[str, str]
) -> None:
    first = _migrate("scoring", database_url=database_url)
    assert first.returncode == 0, first.stderr
    assert {"alembic_version", "outbox", "inbox", "dead_letters"} <= await _tables(database_url)
    again = _migrate("scoring", database_url=database_url)
    assert again.returncode == 0, again.stderr  # idempotent: a re-run Job changes nothing

    settings = service_settings(ScoringSettings, database_url=database_url, bootstrap_servers=bootstrap_servers,
                                tokens=api_tokens, run_migrations=False)
    async with running(create_app(settings), port=settings.http_port) as client:
        assert (await client.get("/readyz")).status_code == 200


async def test_a_service_told_not_to_migrate_refuses_an_unmigrated_database(
    database_url: str, bootstrap_servers: str, api_tokens: dict[str, str]
) -> None:
    settings = service_settings(ScoringSettings, database_url=database_url, bootstrap_servers=bootstrap_servers,
                                tokens=api_tokens, run_migrations=False)
    app = create_app(settings)
    with pytest.raises(NotMigrated, match=r"run `python -m shared.migrate scoring` \(the migration job\) first"):
        async with app.router.lifespan_context(app):  # the service's start, as uvicorn runs it
            pass
    assert "outbox" not in await _tables(database_url)


@pytest.mark.parametrize("arguments", [(), ("../scoring",), ("billing",)])
def test_the_job_refuses_anything_but_one_known_service(arguments: tuple[str, ...]) -> None:
    result = _migrate(*arguments, database_url="postgresql+asyncpg://nobody@127.0.0.1:1/none")
    assert result.returncode == 2
    assert "scoring" in result.stderr or "usage" in result.stderr
