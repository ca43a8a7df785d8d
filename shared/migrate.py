"""`python -m shared.migrate <service>`: one service's database migrated to head, then exit.

For deployments that migrate once, before the services roll (the Kubernetes Job in
`deploy/kubernetes/`), and run the services with `VIP_RUN_MIGRATIONS=false`. The database is
`VIP_DATABASE_URL`, as for the service itself; the migrations are the service's own
(`services/<service>/migrations/`), found by path so that `shared` imports no service. Two runs at
once take turns on the same advisory lock as the services' own start.
"""

import asyncio
import sys
from pathlib import Path

from pydantic_settings import BaseSettings, SettingsConfigDict
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

from shared.migrations import upgrade_to_head

SERVICES_DIR = Path(__file__).resolve().parent.parent / "services"


class MigrateSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="VIP_", extra="ignore", frozen=True)

    database_url: str
    db_connect_timeout_s: float = 10.0


def migrations_dir_of(service: str) -> Path:
    """The service's migrations; a name with no migrations of its own is refused (no path games)."""
    directory = SERVICES_DIR / service / "migrations"
    if not service.isidentifier() or not (directory / "env.py").is_file():
        known = sorted(path.parent.parent.name for path in SERVICES_DIR.glob("*/migrations/env.py"))
        raise ValueError(f"no service {service!r} with migrations; one of {', '.join(known)}")
    return directory


async def migrate(*, service: str, database_url: str, connect_timeout_s: float = 10.0) -> None:
    engine = create_async_engine(
        database_url, poolclass=NullPool, hide_parameters=True,
        connect_args={"timeout": connect_timeout_s, "server_settings": {"application_name": f"vip-migrate-{service}"}},
    )
    try:
        await upgrade_to_head(engine=engine, migrations_dir=migrations_dir_of(service))
    finally:
        await engine.dispose()


def main(argv: list[str] | None = None) -> int:
    arguments = sys.argv[1:] if argv is None else argv
    if len(arguments) != 1:
        print("usage: python -m shared.migrate <service>   (database: VIP_DATABASE_URL)", file=sys.stderr)
        return 2
    try:
        migrations_dir_of(arguments[0])
    except ValueError as error:
        print(f"shared.migrate: {error}", file=sys.stderr)
        return 2
    settings = MigrateSettings()  # VIP_DATABASE_URL, required
    asyncio.run(migrate(service=arguments[0], database_url=settings.database_url,
                        connect_timeout_s=settings.db_connect_timeout_s))
    print(f"shared.migrate: {arguments[0]} is at its migrations' head")
    return 0


if __name__ == "__main__":
    sys.exit(main())
