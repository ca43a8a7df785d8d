"""The representative's duties at scale: a year's holiday items for every VIP, and the work list.

    python -m bench.duties --vips 1000000 --items 50000000

Uses an embedded PostgreSQL in a temporary directory and assignment's own migrations.

1. **A year's holiday items.** `--vips` VIP customers (each with a representative and a CRM birthday)
   are seeded with `generate_series`; the daily run's step `holiday_items_generated` (the real
   workflow, `workflows.duties.generate_holiday_year`) is timed: two `INSERT ... SELECT` (the VIPs
   crossed with the year's fixed occasions, and the birthdays), `ON CONFLICT DO NOTHING` into the
   indexed `work_items`. The floor beside it: a plain `INSERT ... SELECT` of the same number of rows
   into a copy of the table with the same indexes, no conflict handling, no joins.
2. **The work list at `--items` items.** The table is filled to `--items` rows with `generate_series`
   (indexes dropped while loading, then built again: the state the table would be in), spread over
   5,000 representatives, due dates over two years, 30 % of items still to be done. Then the
   repository's `work_list` (the real query, through SQLAlchemy and asyncpg) is run for random
   representatives and views (this week, overdue, pending; first page of 50) and its latency
   percentiles printed, with the `EXPLAIN (ANALYZE, BUFFERS)` of one run to show the index used.
"""

import argparse
import asyncio
import random
import statistics
import tempfile
import time
from datetime import UTC, date, datetime
from functools import partial
from pathlib import Path
from typing import Literal

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from cli.postgres import EmbeddedPostgres
from services.assignment.config import AssignmentSettings
from services.assignment.main import MIGRATIONS_DIR
from services.assignment.repositories import AssignmentUnitOfWork
from services.assignment.workflows.duties import generate_holiday_year
from shared.daily_run import DailyRun
from shared.db import Transactions, create_engine
from shared.migrations import upgrade_to_head
from shared.ruleset import load_ruleset
from shared.settings import DEFAULT_RULESET_PATH

AGENTS = 5_000
YEAR_START = date(2027, 1, 1)

_SEED_VIPS = """
INSERT INTO customers (customer_id, tier_revision, tier, serving_channel, policies, service_person_ids,
                       representative_id, revision)
SELECT 'C' || lpad(i::text, 8, '0'), 1, 'gold', 'agency', '[]'::jsonb, '{}',
       'A' || lpad((i % CAST(:agents AS int))::text, 5, '0'), 1
FROM generate_series(1, CAST(:vips AS int)) AS i;
INSERT INTO customer_profiles (customer_id, name, birthday, branch, profile_at)
SELECT 'C' || lpad(i::text, 8, '0'), 'name', date '1960-01-01' + (i % 15000), 'B' || (i % 40), now()
FROM generate_series(1, CAST(:vips AS int)) AS i;
"""

_FLOOR = """
INSERT INTO work_items_floor (customer_id, duty, occasion, occasion_key, year, opens_on, due_on, channels, agent_id)
SELECT c.customer_id, 'holiday_care', 'Occasion', 'holiday:' || o, 2027, date '2027-03-01', date '2027-03-08',
       '{visit,wechat,sms}', c.representative_id
FROM customers AS c CROSS JOIN generate_series(1, CAST(:per_vip AS int)) AS o
"""

_FILL = """
INSERT INTO work_items (customer_id, duty, occasion, occasion_key, year, opens_on, due_on, channels, agent_id,
                        state, done_on)
SELECT 'C' || lpad((i % CAST(:vips AS int))::text, 8, '0'), 'holiday_care', 'Occasion', 'fill:' || i,
       2026 + (i % 730) / 365, date '2026-01-01' + (i % 730) - 7, date '2026-01-01' + (i % 730), '{visit}',
       'A' || lpad((i % CAST(:agents AS int))::text, 5, '0'),
       CASE WHEN i % 10 < 3 THEN 'open' ELSE 'done' END,
       CASE WHEN i % 10 < 3 THEN NULL ELSE date '2026-01-01' + (i % 730) END
FROM generate_series(CAST(:first AS int), CAST(:last AS int)) AS i
"""

View = Literal["this_week", "overdue", "pending"]


async def _execute(engine: AsyncEngine, sql: str, **parameters: object) -> float:
    started = time.perf_counter()
    async with engine.begin() as connection:
        for statement in filter(None, (part.strip() for part in sql.split(";"))):
            await connection.execute(text(statement), parameters)
    return time.perf_counter() - started


async def _count(engine: AsyncEngine, table: str) -> int:
    async with engine.connect() as connection:
        return int((await connection.execute(text(f"SELECT count(*) FROM {table}"))).scalar_one())


async def holiday_year(engine: AsyncEngine, *, vips: int) -> None:
    ruleset = load_ruleset(DEFAULT_RULESET_PATH)
    print(f"seeding {vips:,} VIPs with a representative and a CRM birthday ...", flush=True)
    await _execute(engine, _SEED_VIPS, vips=vips, agents=AGENTS)
    async with engine.connect() as connection:
        await connection.execution_options(isolation_level="AUTOCOMMIT")
        await connection.execute(text("VACUUM ANALYZE customers"))
        await connection.execute(text("VACUUM ANALYZE customer_profiles"))
    transactions = Transactions(engine=engine, make_unit_of_work=partial(AssignmentUnitOfWork, ruleset=ruleset))
    run = DailyRun(as_of=YEAR_START, started_at=datetime.now(UTC), run_by="bench")
    started = time.perf_counter()
    async with transactions.begin() as uow:
        done = await generate_holiday_year(uow, run=run, after="", limit=1000)
    seconds = time.perf_counter() - started
    print(f"  holiday_items_generated: {done.changed:,} items for {vips:,} VIPs in {seconds:.1f} s "
          f"({done.changed / seconds:,.0f} items/s)", flush=True)
    async with engine.begin() as connection:
        await connection.execute(text("CREATE TABLE work_items_floor (LIKE work_items INCLUDING ALL)"))
    per_vip = round(done.changed / vips)
    floor = await _execute(engine, _FLOOR, per_vip=per_vip)
    floor_rows = await _count(engine, "work_items_floor")
    print(f"  floor, plain INSERT ... SELECT of {floor_rows:,} rows into the same indexed table: {floor:.1f} s",
          flush=True)
    async with engine.begin() as connection:
        await connection.execute(text("DROP TABLE work_items_floor"))
    print(f"holiday_year_vips={vips} items={done.changed} seconds={seconds:.1f} floor_seconds={floor:.1f}")


async def fill(engine: AsyncEngine, *, vips: int, items: int) -> None:
    have = await _count(engine, "work_items")
    wanted = max(items - have, 0)
    print(f"filling work_items to {items:,} rows ({wanted:,} more), indexes dropped while loading ...", flush=True)
    async with engine.connect() as connection:
        indexes = [
            (name, definition)
            for name, definition in (
                await connection.execute(text(
                    "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'work_items' "
                    "AND indexname <> 'work_items_pkey'"
                ))
            ).all()
        ]
    started = time.perf_counter()
    async with engine.begin() as connection:
        for name, _ in indexes:
            await connection.execute(text(f"DROP INDEX {name}"))
    chunk = 5_000_000
    for first in range(1, wanted + 1, chunk):
        last = min(first + chunk - 1, wanted)
        await _execute(engine, _FILL, first=first, last=last, vips=vips, agents=AGENTS)
        print(f"  {have + last:,} rows", flush=True)
    for _, definition in indexes:
        await _execute(engine, definition)
    async with engine.connect() as connection:
        await connection.execution_options(isolation_level="AUTOCOMMIT")
        await connection.execute(text("VACUUM ANALYZE work_items"))
    print(f"  loaded and indexed in {time.perf_counter() - started:.0f} s", flush=True)


async def work_list(engine: AsyncEngine, *, runs: int) -> None:
    ruleset = load_ruleset(DEFAULT_RULESET_PATH)
    transactions = Transactions(engine=engine, make_unit_of_work=partial(AssignmentUnitOfWork, ruleset=ruleset))
    rng = random.Random(13)
    views: tuple[View, ...] = ("this_week", "overdue", "pending")
    timings: dict[str, list[float]] = {view: [] for view in views}
    async with transactions.read() as uow:
        for number in range(runs + 100):
            agent = f"A{rng.randrange(AGENTS):05d}"
            view = views[number % 3]
            as_of = date.fromordinal(date(2026, 3, 1).toordinal() + rng.randrange(600))
            started = time.perf_counter()
            found = await uow.work_items.work_list(agent, view=view, as_of=as_of, limit=50, offset=0)
            elapsed = time.perf_counter() - started
            if number >= 100:  # the first runs warm the connection's prepared statements
                timings[view].append(elapsed * 1000)
            assert len(found) <= 50
        plan = await uow.connection.execute(text(
            "EXPLAIN (ANALYZE, BUFFERS) SELECT * FROM work_items WHERE agent_id = 'A00042' "
            "AND state IN ('open', 'overdue') AND due_on >= date '2026-06-01' AND due_on <= date '2026-06-07' "
            "ORDER BY due_on, item_id LIMIT 50"
        ))
        explain = "\n".join(f"    {line}" for (line,) in plan.all())
    every = sorted(value for values in timings.values() for value in values)
    print(f"  work list over {await _count(engine, 'work_items'):,} items, {len(every)} runs:")
    for view, values in timings.items():
        values.sort()
        p99 = values[int(len(values) * 0.99) - 1]
        print(f"    {view:<10} p50 {statistics.median(values):.2f} ms  p99 {p99:.2f} ms")
    print(f"    all        p50 {statistics.median(every):.2f} ms  p99 {every[int(len(every) * 0.99) - 1]:.2f} ms")
    print("  one run's plan:\n" + explain)


async def bench(postgres: EmbeddedPostgres, *, vips: int, items: int, runs: int) -> None:
    await postgres.create_databases(["bench_duties"])
    url = postgres.database_url("bench_duties")
    engine = create_engine(settings=AssignmentSettings(database_url=url))
    try:
        await upgrade_to_head(engine=engine, migrations_dir=MIGRATIONS_DIR)
        await holiday_year(engine, vips=vips)
        if items:
            await fill(engine, vips=vips, items=items)
            await work_list(engine, runs=runs)
    finally:
        await engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--vips", type=int, default=1_000_000)
    parser.add_argument("--items", type=int, default=50_000_000, help="0: the holiday year only")
    parser.add_argument("--runs", type=int, default=3_000)
    arguments = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="vip-bench-") as scratch:
        postgres = EmbeddedPostgres()
        postgres.start(Path(scratch) / "pgdata")
        try:
            asyncio.run(bench(postgres, vips=arguments.vips, items=arguments.items, runs=arguments.runs))
        finally:
            postgres.stop()


if __name__ == "__main__":
    main()
