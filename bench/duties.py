"""The representative's duties at scale: a year's holiday items for every VIP, and the work list.

    python -m bench.duties --vips 1000000 --items 50000000 [--next-year]

An embedded PostgreSQL in a temporary directory, assignment's own migrations; the server's settings that
bear on heavy writes and the load average (1-minute, before -> after) are printed beside the figures.

1. **A year's holiday items.** `--vips` VIPs (each with a representative and a CRM birthday) seeded
   with `generate_series`; the daily run's step `holiday_items_generated` timed through the real
   driver (`shared.daily_run.drive_daily_run`, chunks of `--chunk` VIPs), then the same date again
   (it must add nothing). The floors beside it, each one plain `INSERT ... SELECT` into a copy of the
   table with the same indexes: synthetic rows (the VIPs crossed with `generate_series`, one date for
   all) and the very rows generated, in the same order (the same index insertion pattern).
2. **The work list at `--items` items.** The table filled with `generate_series` (indexes dropped
   while loading, then built again), 5,000 representatives, due dates over two years, 30 % still to
   be done. The repository's `work_list` runs `--runs` times for random representatives, dates and
   views (first page of 50): p50/p95/p99 end to end, and the server's execution time of each same
   call (`EXPLAIN (ANALYZE, TIMING OFF)`); then one run's `EXPLAIN (ANALYZE, BUFFERS)` and the
   generic plan a prepared statement falls back to, run.
3. **The next year into the full table** (`--next-year`), as the daily run of each new year meets it.
"""

import argparse
import asyncio
import os
import random
import statistics
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Literal

from sqlalchemy import text
from sqlalchemy.dialects import postgresql
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from bench import duties_sql
from cli.postgres import EmbeddedPostgres
from services.assignment.config import AssignmentSettings
from services.assignment.main import MIGRATIONS_DIR
from services.assignment.repositories import AssignmentUnitOfWork
from services.assignment.repositories.work_items import work_list_statement
from services.assignment.workflows.duties import DUTY_STEPS
from shared.daily_run import DailyRun, drive_daily_run
from shared.db import Transactions, create_engine
from shared.migrations import upgrade_to_head
from shared.ruleset import load_ruleset
from shared.settings import DEFAULT_RULESET_PATH

View = Literal["this_week", "overdue", "pending"]
AGENTS = 5_000
YEAR_START = date(2027, 1, 1)
HOLIDAY_STEP = next(step for step in DUTY_STEPS if step.name == "holiday_items_generated")

async def _execute(engine: AsyncEngine, sql: str, **parameters: object) -> float:
    started = time.perf_counter()
    async with engine.begin() as connection:
        for statement in filter(None, (part.strip() for part in sql.split(";"))):
            await connection.execute(text(statement), parameters)
    return time.perf_counter() - started


async def _count(engine: AsyncEngine, table: str) -> int:
    async with engine.connect() as connection:
        return int((await connection.execute(text(f"SELECT count(*) FROM {table}"))).scalar_one())


async def _vacuum(engine: AsyncEngine, *tables: str) -> None:
    async with engine.connect() as connection:
        await connection.execution_options(isolation_level="AUTOCOMMIT")
        for table in tables:
            await connection.execute(text(f"VACUUM ANALYZE {table}"))
        await connection.execute(text("CHECKPOINT"))


def _transactions(engine: AsyncEngine) -> Transactions[AssignmentUnitOfWork]:
    ruleset = load_ruleset(DEFAULT_RULESET_PATH)
    return Transactions(engine=engine, make_unit_of_work=partial(AssignmentUnitOfWork, ruleset=ruleset))


async def generate_year(engine: AsyncEngine, *, as_of: date, chunk: int) -> tuple[int, float]:
    """The daily run's holiday step alone, through the real driver: items added, seconds."""
    run = DailyRun(as_of=as_of, started_at=datetime.now(UTC), run_by="bench")
    started = time.perf_counter()
    changed = await drive_daily_run(transactions=_transactions(engine), run=run, steps=[HOLIDAY_STEP], chunk_size=chunk)
    return changed[HOLIDAY_STEP.name], time.perf_counter() - started


async def holiday_year(engine: AsyncEngine, *, vips: int, chunk: int) -> None:
    print(f"seeding {vips:,} VIPs with a representative and a CRM birthday ...", flush=True)
    await _execute(engine, duties_sql.SEED_VIPS, vips=vips, agents=AGENTS)
    await _vacuum(engine, "customers", "customer_profiles")
    async with engine.connect() as connection:
        indexes = (await connection.execute(text(
            "SELECT string_agg(indexname, ', ' ORDER BY indexname) FROM pg_indexes WHERE tablename = 'work_items'"
        ))).scalar_one()
        server = (await connection.execute(text(
            "SELECT string_agg(name || ' ' || current_setting(name), ', ' ORDER BY name) FROM pg_settings "
            "WHERE name IN ('shared_buffers', 'max_wal_size', 'checkpoint_timeout', 'wal_compression')"
        ))).scalar_one()
    print(f"  work_items' indexes: {indexes}\n  server: {server}", flush=True)
    load = os.getloadavg()[0]
    added, seconds = await generate_year(engine, as_of=YEAR_START, chunk=chunk)
    print(f"  holiday_items_generated: {added:,} items for {vips:,} VIPs in {seconds:.1f} s "
          f"({added / seconds:,.0f} items/s, chunks of {chunk:,} VIPs; load {load:.1f} -> {os.getloadavg()[0]:.1f})",
          flush=True)
    again, rerun = await generate_year(engine, as_of=YEAR_START, chunk=chunk)
    print(f"  the same date again: {again:,} items in {rerun:.2f} s", flush=True)
    floors = {}
    for name, sql in (("synthetic", duties_sql.FLOOR), ("same rows", duties_sql.SAME_ROWS_FLOOR)):
        async with engine.begin() as connection:
            await connection.execute(text("CREATE TABLE work_items_floor (LIKE work_items INCLUDING ALL)"))
        await _vacuum(engine, "work_items")
        load = os.getloadavg()[0]
        floors[name] = await _execute(engine, sql, per_vip=round(added / vips), year=YEAR_START.year)
        rows = await _count(engine, "work_items_floor")
        print(f"  floor ({name}), one plain INSERT ... SELECT of {rows:,} rows into the same indexed table: "
              f"{floors[name]:.1f} s (load {load:.1f} -> {os.getloadavg()[0]:.1f})", flush=True)
        async with engine.begin() as connection:
            await connection.execute(text("DROP TABLE work_items_floor"))
    floor = floors["synthetic"]
    print(f"holiday_year_vips={vips} items={added} seconds={seconds:.1f} floor_seconds={floor:.1f} "
          f"same_rows_floor_seconds={floors['same rows']:.1f}", flush=True)


async def fill(engine: AsyncEngine, *, vips: int, items: int) -> None:
    have = await _count(engine, "work_items")
    wanted = max(items - have, 0)
    print(f"filling work_items to {items:,} rows ({wanted:,} more), indexes dropped while loading ...", flush=True)
    async with engine.connect() as connection:
        indexes = [tuple(row) for row in await connection.execute(text(
            "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'work_items' "
            "AND indexname <> 'work_items_pkey'"
        ))]
    started = time.perf_counter()
    async with engine.begin() as connection:
        for name, _ in indexes:
            await connection.execute(text(f"DROP INDEX {name}"))
    chunk = 5_000_000
    for first in range(1, wanted + 1, chunk):
        last = min(first + chunk - 1, wanted)
        await _execute(engine, duties_sql.FILL, first=first, last=last, vips=vips, agents=AGENTS)
        print(f"  {have + last:,} rows ({time.perf_counter() - started:.0f} s)", flush=True)
    loaded = time.perf_counter() - started
    for name, definition in indexes:
        began = time.perf_counter()
        await _execute(engine, definition)
        print(f"  {name} built in {time.perf_counter() - began:.0f} s", flush=True)
    await _vacuum(engine, "work_items")
    print(f"  loaded in {loaded:.0f} s, loaded and indexed in {time.perf_counter() - started:.0f} s", flush=True)


def _percentiles(values: list[float]) -> str:
    ordered = sorted(values)

    def at(share: float) -> float:
        return ordered[max(int(len(ordered) * share) - 1, 0)]

    return (f"p50 {statistics.median(ordered):.2f} ms  p95 {at(0.95):.2f} ms  p99 {at(0.99):.2f} ms  "
            f"max {ordered[-1]:.2f} ms")


async def work_list(engine: AsyncEngine, *, runs: int) -> None:
    """End to end through the repository, then the server's own execution time of each same call."""
    rng = random.Random(13)
    views: tuple[View, ...] = ("this_week", "overdue", "pending")
    calls = [
        (f"A{rng.randrange(AGENTS):05d}", views[number % 3],
         date.fromordinal(date(2026, 3, 1).toordinal() + rng.randrange(600)))
        for number in range(runs + 100)
    ]
    client: dict[str, list[float]] = {view: [] for view in views}
    server: dict[str, list[float]] = {view: [] for view in views}
    async with _transactions(engine).read() as uow:
        for number, (agent, view, as_of) in enumerate(calls):
            started = time.perf_counter()
            found = await uow.work_items.work_list(agent, view=view, as_of=as_of, limit=50, offset=0)
            elapsed = time.perf_counter() - started
            if number >= 100:  # the first runs warm the connection's prepared statements
                client[view].append(elapsed * 1000)
            assert len(found) <= 50
        for agent, view, as_of in calls[100:]:
            plan = await uow.connection.execute(text(
                "EXPLAIN (ANALYZE, TIMING OFF, FORMAT JSON) " + _work_list_sql(agent, view=view, as_of=as_of)
            ))
            server[view].append(float(plan.scalar_one()[0]["Execution Time"]))
        explain = await uow.connection.execute(text(
            "EXPLAIN (ANALYZE, BUFFERS) " + _work_list_sql("A00042", view="this_week", as_of=date(2026, 6, 1))
        ))
        generic = await _generic_plan(uow.connection, agent="A00042", as_of=date(2026, 6, 1))
        plan_text = "\n".join(f"    {line}" for (line,) in explain.all())
        generic_text = "\n".join(f"    {line}" for line in generic)
    print(f"  work list over {await _count(engine, 'work_items'):,} items, {runs} runs of each measure:")
    for title, timings in (("end to end (repository, SQLAlchemy, asyncpg)", client),
                           ("the query on the server (EXPLAIN ANALYZE execution time)", server)):
        print(f"   {title}:")
        for name, values in timings.items():
            print(f"    {name:<10} {_percentiles(values)}")
        print(f"    {'all':<10} {_percentiles([value for values in timings.values() for value in values])}")
    print("  one run's plan:\n" + plan_text)
    print("  the generic plan (a prepared statement's, parameters unknown), run:\n" + generic_text, flush=True)


async def _generic_plan(connection: AsyncConnection, *, agent: str, as_of: date) -> list[str]:
    """The plan a prepared statement may settle on after five runs (`plan_cache_mode = auto`): the
    parameters unknown when it was planned, so the partial index must be proven from the text alone."""
    driver = (await connection.get_raw_connection()).driver_connection
    assert driver is not None
    await driver.execute(  # simple query protocol: $1... belong to the PREPARE, not to this call
        "PREPARE work_list_generic AS " + _work_list_sql(agent, view="this_week", as_of=as_of, bound=True)
    )
    sunday = as_of + timedelta(days=6 - as_of.weekday())
    await connection.execute(text("SET plan_cache_mode = force_generic_plan"))
    plan = await connection.execute(text(
        f"EXPLAIN (ANALYZE, BUFFERS) EXECUTE work_list_generic('{agent}', '{as_of}', '{sunday}')"
    ))
    lines = [str(line) for (line,) in plan.all()]
    await connection.execute(text("RESET plan_cache_mode"))
    await driver.execute("DEALLOCATE work_list_generic")
    return lines


def _work_list_sql(agent: str, *, view: View, as_of: date, bound: bool = False) -> str:
    """The repository's statement, compiled with these values, or (`bound`) with the agent and the
    dates as parameters `$1`, `$2`, ... as a prepared statement's generic plan sees them."""
    statement = work_list_statement(agent, view=view, as_of=as_of, limit=50, offset=0)
    dialect = postgresql.dialect()  # type: ignore[no-untyped-call]
    sql = str(statement.compile(dialect=dialect, compile_kwargs={"literal_binds": True}))
    if bound:
        values = [agent, as_of.isoformat()] + ([(as_of + timedelta(days=6 - as_of.weekday())).isoformat()]
                                               if view == "this_week" else [])
        for number, value in enumerate(values, start=1):
            sql = sql.replace(f"'{value}'", f"${number}")
    return sql


async def bench(postgres: EmbeddedPostgres, *, vips: int, items: int, runs: int, chunk: int, next_year: bool) -> None:
    await postgres.create_databases(["bench_duties"])
    url = postgres.database_url("bench_duties")
    engine = create_engine(settings=AssignmentSettings(database_url=url))
    try:
        await upgrade_to_head(engine=engine, migrations_dir=MIGRATIONS_DIR)
        await holiday_year(engine, vips=vips, chunk=chunk)
        if items:
            await fill(engine, vips=vips, items=items)
            await work_list(engine, runs=runs)
            if next_year:
                added, seconds = await generate_year(engine, as_of=date(YEAR_START.year + 1, 1, 1), chunk=chunk)
                print(f"  the next year into the full table: {added:,} items in {seconds:.1f} s", flush=True)
    finally:
        await engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--vips", type=int, default=1_000_000)
    parser.add_argument("--items", type=int, default=50_000_000, help="0: the holiday year only")
    parser.add_argument("--runs", type=int, default=3_000)
    parser.add_argument("--chunk", type=int, default=AssignmentSettings.model_fields["daily_run_batch_size"].default,
                        help="VIPs per chunk of the holiday year (the daily run's batch size)")
    parser.add_argument("--next-year", action="store_true", help="then the next year's items into the full table")
    arguments = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="vip-bench-") as scratch:
        postgres = EmbeddedPostgres()
        postgres.start(Path(scratch) / "pgdata")
        try:
            asyncio.run(bench(
                postgres, vips=arguments.vips, items=arguments.items, runs=arguments.runs, chunk=arguments.chunk,
                next_year=arguments.next_year,
            ))
        finally:
            postgres.stop()


if __name__ == "__main__":
    main()
