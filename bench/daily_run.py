"""The daily run over a large book: time and peak memory of scoring's cooling-off run.

    python bench/daily_run.py --customers 1000000

Seeds the scoring database (embedded PostgreSQL in a temporary directory, COPY) with N customers
holding two policies each: one counted, one whose cooling-off's last day is the day before the run's
date (so its points count from the run's date), plus N more
customers with nothing due. Then, in a separate process (so its peak RSS is its own), runs scoring's
daily-run steps through the shared driver, as `POST /v1/daily-runs` does, and reports customers
changed, seconds, and peak RSS. The last line is `daily_run_customers=<n> seconds=<s> changed=<c> peak_rss_mb=<m>`.
"""

import argparse
import asyncio
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import asyncpg

from cli.postgres import EmbeddedPostgres

AS_OF = date(2026, 11, 24)


def _policy(policy_no: str, holder_id: str, *, cooling_off_ends_on: date, premium: int) -> str:
    return json.dumps({
        "policy_no": policy_no, "version": 1, "holder_id": holder_id, "channel": "agency", "branch": "GD-SZ",
        "agent_id": "A00412", "status": "in_force", "issued_on": (cooling_off_ends_on - timedelta(days=15)).isoformat(),
        "cooling_off_ends_on": cooling_off_ends_on.isoformat(), "product_type": "participating",
        "payment_term_years": 10, "payment_mode": "annual", "modal_premium": f"{premium}.00",
        "account_value": "0.00", "annuity_converted_premium": "0.00", "premium_waived": False, "paid_up": False,
        "loan_outstanding": "0.00",
    })


async def seed(dsn: str, customers: int) -> None:
    connection = await asyncpg.connect(dsn)
    try:
        started = time.perf_counter()
        old = AS_OF - timedelta(days=200)
        last_day = AS_OF - timedelta(days=1)  # the cooling-off's last day: counted from AS_OF
        for start in range(0, 2 * customers, 100_000):
            policy_rows, customer_rows = [], []
            for index in range(start, min(start + 100_000, 2 * customers)):
                holder = f"D{index:08d}"
                due = index < customers  # the first half has a policy counting from the run's date
                policy_rows.append((f"{holder}-1", holder, 1, _policy(f"{holder}-1", holder,
                                   cooling_off_ends_on=old, premium=20_000), "new_business"))
                policy_rows.append((f"{holder}-2", holder, 1, _policy(f"{holder}-2", holder,
                                   cooling_off_ends_on=last_day if due else old, premium=15_000), "new_business"))
                customer_rows.append((
                    holder, 1, Decimal("20000.00") if due else Decimal("35000.00"), Decimal("0.00"),
                    Decimal("15000.00") if due else Decimal("0.00"), "agency", AS_OF if due else None,
                    AS_OF - timedelta(days=30), "new_business", "individual-2015.1", "[]",
                ))
            await connection.copy_records_to_table(
                "policies", records=policy_rows,
                columns=["policy_no", "holder_id", "version", "state", "last_event_type"],
            )
            await connection.copy_records_to_table(
                "customers", records=customer_rows,
                columns=["customer_id", "revision", "points", "standard_premium", "pending_points",
                         "serving_channel", "next_pending_date", "scored_as_of", "trigger", "ruleset_version",
                         "policies"],
            )
            print(f"  seeded {min(start + 100_000, 2 * customers):,} customers "
                  f"({time.perf_counter() - started:.0f} s)", flush=True)
        await connection.execute("ANALYZE")
    finally:
        await connection.close()


async def run(database_url: str) -> None:
    from functools import partial

    from services.scoring.config import ScoringSettings
    from services.scoring.repositories import ScoringUnitOfWork
    from services.scoring.workflows import DAILY_RUN_STEPS, finish
    from shared.daily_run import DailyRun, drive_daily_run
    from shared.db import Transactions, create_engine
    from shared.group_ruleset import load_group_ruleset
    from shared.ruleset import load_ruleset

    settings = ScoringSettings(database_url=database_url)
    transactions = Transactions(
        engine=create_engine(settings=settings),
        make_unit_of_work=partial(
            ScoringUnitOfWork,
            ruleset=load_ruleset(settings.ruleset_path),
            group_ruleset=load_group_ruleset(settings.group_ruleset_path),
        ),
    )
    started = time.perf_counter()
    steps = await drive_daily_run(
        transactions=transactions,
        run=DailyRun(as_of=AS_OF, started_at=datetime.now(UTC), run_by="bench"),
        steps=DAILY_RUN_STEPS,
        chunk_size=settings.daily_run_batch_size,
        finish=finish,
    )
    changed = sum(steps.values())
    seconds = time.perf_counter() - started
    await transactions.engine.dispose()
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"changed": changed, "seconds": seconds, "peak_rss_mb": peak_mb}))


async def prepare(postgres: EmbeddedPostgres, customers: int) -> str:
    from services.scoring.config import ScoringSettings
    from services.scoring.main import MIGRATIONS_DIR
    from shared.db import create_engine
    from shared.migrations import upgrade_to_head

    await postgres.create_databases(["bench_daily"])
    url = postgres.database_url("bench_daily")
    engine = create_engine(settings=ScoringSettings(database_url=url))
    await upgrade_to_head(engine=engine, migrations_dir=MIGRATIONS_DIR)
    await engine.dispose()
    await seed(postgres.server_url("bench_daily"), customers)
    return url


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--customers", type=int, default=1_000_000, help="customers due (as many again not due)")
    parser.add_argument("--run", metavar="DATABASE_URL", help=argparse.SUPPRESS)
    arguments = parser.parse_args()
    if arguments.run:
        asyncio.run(run(arguments.run))
        return
    with tempfile.TemporaryDirectory(prefix="vip-bench-") as scratch:
        postgres = EmbeddedPostgres()
        postgres.start(Path(scratch) / "pgdata")
        try:
            print(f"seeding {arguments.customers:,} due customers and as many not due ...", flush=True)
            url = asyncio.run(prepare(postgres, arguments.customers))
            print("running scoring's daily run ...", flush=True)
            profile_to = os.environ.get("VIP_BENCH_PROFILE")  # a cProfile output file, to see where time goes
            profile = ["-m", "cProfile", "-o", profile_to] if profile_to else []
            result = subprocess.run(
                [sys.executable, *profile, "-m", "bench.daily_run", "--run", url],
                capture_output=True, text=True, check=True,
            )
            figures = json.loads(result.stdout.strip().splitlines()[-1])
        finally:
            postgres.stop()
    print(f"  {figures['changed']:,} customers re-scored in {figures['seconds']:.1f} s, "
          f"peak RSS {figures['peak_rss_mb']:.0f} MB")
    print(f"daily_run_customers={arguments.customers} seconds={figures['seconds']:.1f} "
          f"changed={figures['changed']} peak_rss_mb={figures['peak_rss_mb']:.0f}")


if __name__ == "__main__":
    main()
