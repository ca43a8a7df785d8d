"""The group program's quarter-end evaluation at scale (rules.md section 9): 100,000 group clients with
1,000,000 group policies, evaluated by tiering's daily-run step for a quarter-end date, set-based, a
chunk per transaction; printed side by side with a plain `SELECT` of the same rows, the floor.

    python bench/group_evaluation.py --events 100000 --batch 1000

`--events` is the number of clients (ten group policies each). Uses an embedded PostgreSQL in a
temporary directory. The book is built in SQL, not timed: the policies go into a scratch table, each
client's annual standard premium is their annualised premium x the example ruleset's factor, summed;
experience (four quarters) and feedback are spread so every band of every table is reached.
"""

import time
from datetime import UTC, date, datetime
from functools import partial

from sqlalchemy import text

from bench.harness import run_alone
from cli.postgres import EmbeddedPostgres
from services.tiering.config import TieringSettings
from services.tiering.main import MIGRATIONS_DIR
from services.tiering.repositories import TieringUnitOfWork
from services.tiering.workflows import DAILY_RUN_STEPS
from shared.daily_run import DailyRun, drive_daily_run
from shared.db import Transactions, create_engine
from shared.group_ruleset import load_group_ruleset
from shared.migrations import upgrade_to_head
from shared.ruleset import load_ruleset

QUARTER_END = date(2026, 12, 31)

_POLICIES = """
CREATE UNLOGGED TABLE bench_group_policies AS
SELECT 'G' || lpad(n::text, 8, '0') AS policy_no,
       'K' || lpad((n % :clients)::text, 7, '0') AS client_id,
       (ARRAY['traditional', 'participating', 'universal'])[1 + n % 3] AS product_type,
       (ARRAY[1, 3, 5, 10])[1 + (n / 7) % 4] AS term_years,
       round((1000 + (n::bigint * 7919) % 90000)::numeric, 2) AS annual_premium,
       n % 17 <> 0 AS in_force
FROM generate_series(1, :policies) AS n
"""

_CLIENTS = """
INSERT INTO group_clients
SELECT p.client_id, 1, 'B' || (abs(hashtext(p.client_id)) % 40)::text,
       date '2010-01-01' + (abs(hashtext(p.client_id)) % 5000),
       sum(CASE WHEN in_force THEN annual_premium * CASE
             WHEN product_type = 'universal' THEN 0.1
             WHEN term_years >= 5 THEN 1.0 WHEN term_years >= 3 THEN 0.6 ELSE 0.3 END ELSE 0 END)::numeric(18, 2),
       count(*) FILTER (WHERE in_force),
       jsonb_build_array(
         jsonb_build_object('period_start', '2026-07-01', 'period_end', '2026-09-30', 'earned_premium', '100000.00',
                            'incurred_claims', ((abs(hashtext(p.client_id)) % 150) * 1000)::text),
         jsonb_build_object('period_start', '2026-04-01', 'period_end', '2026-06-30',
                            'earned_premium', '100000.00', 'incurred_claims', '50000.00')),
       1, abs(hashtext(p.client_id)) % 3, CASE WHEN abs(hashtext(p.client_id)) % 2 = 0 THEN 4.5 END,
       CASE WHEN abs(hashtext(p.client_id)) % 2 = 0 THEN date '2026-11-01' END,
       NULL, 0, 0, 0, 0, NULL, NULL, NULL, NULL, NULL, 'not evaluated yet', 0, now()
FROM bench_group_policies p GROUP BY p.client_id
"""


async def main(clients: int, batch_size: int, postgres: EmbeddedPostgres) -> None:
    await postgres.create_databases(["bench_group"])
    settings = TieringSettings(database_url=postgres.database_url("bench_group"))
    transactions = Transactions(
        engine=create_engine(settings=settings),
        make_unit_of_work=partial(
            TieringUnitOfWork,
            ruleset=load_ruleset(settings.ruleset_path),
            group_ruleset=load_group_ruleset(settings.group_ruleset_path),
        ),
    )
    engine = transactions.engine
    await upgrade_to_head(engine=engine, migrations_dir=MIGRATIONS_DIR)
    async with engine.begin() as connection:
        await connection.execute(text(_POLICIES), {"clients": clients, "policies": clients * 10})
        await connection.execute(text(_CLIENTS))
        await connection.execute(text("ANALYZE group_clients"))
        policies = await connection.scalar(text("SELECT count(*) FROM bench_group_policies"))
        loaded = await connection.scalar(text("SELECT count(*) FROM group_clients"))
    print(f"group_clients={loaded} group_policies={policies}")

    started = time.perf_counter()
    async with engine.connect() as connection:
        rows = len((await connection.execute(text("SELECT * FROM group_clients ORDER BY client_id"))).all())
    floor = time.perf_counter() - started

    run = DailyRun(as_of=QUARTER_END, started_at=datetime.now(UTC), run_by="bench")
    # The service's own step, with its own chunk (`--batch` plays VIP_DAILY_RUN_BATCH_SIZE, 1,000 by default).
    steps = tuple(step for step in DAILY_RUN_STEPS if step.name == "group_quarter_end_evaluated")
    started = time.perf_counter()
    changed = await drive_daily_run(transactions=transactions, run=run, steps=steps, chunk_size=batch_size)
    elapsed = time.perf_counter() - started
    async with engine.connect() as connection:
        evaluations = await connection.scalar(text("SELECT count(*) FROM group_evaluations"))
        outbox = await connection.scalar(text("SELECT count(*) FROM outbox"))
        levels = (await connection.execute(
            text("SELECT coalesce(level, 'regular'), count(*) FROM group_clients GROUP BY 1 ORDER BY 1")
        )).all()
    await engine.dispose()
    print(f"evaluations={evaluations} published={outbox} changed={changed} levels={dict(levels)}")
    print(f"plain_select_s={floor:.2f} rows={rows}")
    chunk = batch_size * steps[0].chunk_times
    print(f"quarter_end_evaluation_s={elapsed:.2f} clients_per_s={clients / elapsed:.0f} chunk={chunk}")


if __name__ == "__main__":
    run_alone(main, description=__doc__, events=100_000)
