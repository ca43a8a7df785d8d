"""Alembic, run by each service at start on its own database.

Each service keeps its migrations in `services/<name>/migrations/` with a two-line `env.py` that
calls `run_migrations_env(metadata)`. Two instances starting at once take turns on an advisory lock.
"""

import asyncio
import zlib
from pathlib import Path

from alembic import command, context
from alembic.config import Config
from sqlalchemy import Connection, MetaData, text
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine


def alembic_config(*, migrations_dir: Path, database_url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(migrations_dir))
    config.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    return config


async def upgrade_to_head(*, engine: AsyncEngine, migrations_dir: Path) -> None:
    config = alembic_config(migrations_dir=migrations_dir, database_url=str(engine.url))
    lock_key = zlib.crc32(f"vip-migrations:{migrations_dir.parent.name}".encode())

    def upgrade(connection: Connection) -> None:
        connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": lock_key})
        config.attributes["connection"] = connection
        command.upgrade(config, "head")

    async with engine.begin() as connection:
        await connection.run_sync(upgrade)


def run_migrations_env(target_metadata: MetaData) -> None:
    """The body of every service's `env.py`: online with a shared connection, or standalone."""

    def run(connection: Connection) -> None:
        context.configure(connection=connection, target_metadata=target_metadata, compare_type=True)
        with context.begin_transaction():
            context.run_migrations()

    connection = context.config.attributes.get("connection")
    if connection is not None:
        run(connection)
        return

    async def standalone() -> None:
        engine = create_async_engine(context.config.get_main_option("sqlalchemy.url") or "")
        async with engine.begin() as own_connection:
            await own_connection.run_sync(run)
        await engine.dispose()

    asyncio.run(standalone())


def create_messaging_tables() -> None:
    """The inbox and outbox, for a service's first migration (definitions in messaging_tables)."""
    from alembic import op

    from shared.messaging_tables import add_messaging_tables

    metadata = MetaData()
    add_messaging_tables(metadata)
    metadata.create_all(op.get_bind())


def create_platform_tables() -> None:
    """Migration `platform_v2` of every service: durable dead letters, the daily-run log, and the
    index the inbox's retention purge walks (definitions in messaging_tables)."""
    from alembic import op

    from shared.messaging_tables import add_platform_tables

    metadata = MetaData()
    add_platform_tables(metadata)
    metadata.create_all(op.get_bind())
    op.create_index("inbox_processed_at", "inbox", ["processed_at"])
    op.execute(
        "CREATE FUNCTION audit_log_is_append_only() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
        "RAISE EXCEPTION 'the audit log is append-only: % refused', TG_OP USING ERRCODE = 'insufficient_privilege'; "
        "END $$"
    )
    op.execute(
        "CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE OR TRUNCATE ON audit_log "
        "FOR EACH STATEMENT EXECUTE FUNCTION audit_log_is_append_only()"
    )


def drop_platform_tables() -> None:
    """The way back from `create_platform_tables`."""
    from alembic import op

    op.drop_index("inbox_processed_at", table_name="inbox")
    op.drop_table("audit_log")
    op.execute("DROP FUNCTION audit_log_is_append_only()")
    op.drop_table("daily_run_log")
    op.drop_table("dead_letters")
