"""`vip simulate` over 1,000,000 customers with 2,000,000 policies, beside a plain scan as the floor.

    python -m bench.simulate [--customers 1000000] [--policies 2000000]

The book is written straight into scoring's and tiering's databases (bench/book.py); the simulation
then runs exactly as `vip simulate` does: the exports over HTTP, DuckDB, the candidate's rules. The
floor is a plain scan of the same rows: every policy's state read from PostgreSQL through a
server-side cursor, nothing done with it. Target: <= 60 s.
"""

import argparse
import asyncio
import datetime as dt
import tempfile
import time
from pathlib import Path

import asyncpg
import yaml

from bench.book import TOKEN, prepared_book
from cli.simulate.command import render, simulate
from shared.ruleset import load_ruleset
from shared.settings import DEFAULT_RULESET_PATH


async def plain_scan(dsn: str) -> int:
    connection = await asyncpg.connect(dsn)
    rows = 0
    try:
        async with connection.transaction():
            async for _row in connection.cursor("SELECT state::text FROM policies", prefetch=5000):
                rows += 1
    finally:
        await connection.close()
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--policies", type=int, default=2_000_000)
    arguments = parser.parse_args()
    live = load_ruleset(DEFAULT_RULESET_PATH)
    candidate_document = yaml.safe_load(DEFAULT_RULESET_PATH.read_text())
    candidate_document["version"] = "bench-candidate"
    candidate_document["thresholds"]["2015"]["gold"] = "25000"
    with (
        tempfile.TemporaryDirectory() as folder,
        prepared_book(customers=arguments.customers, policies=arguments.policies) as book,
    ):
        candidate_path = Path(folder) / "candidate.yaml"
        candidate_path.write_text(yaml.safe_dump(candidate_document, allow_unicode=True))
        candidate = load_ruleset(candidate_path)
        started = time.perf_counter()
        rows = asyncio.run(plain_scan(book.scoring_dsn))
        floor_s = time.perf_counter() - started
        started = time.perf_counter()
        result = simulate(
            candidate=candidate, live=live, as_of=dt.date(2026, 12, 2), token=TOKEN, http_port_base=book.http_base,
            output=Path(folder) / "out.parquet",
        )  # fmt: skip
        simulate_s = time.perf_counter() - started
        print("\n".join(render(result)))
        print(
            f"simulate_s={simulate_s:.1f} floor_plain_scan_s={floor_s:.1f} (rows {rows}) "
            f"customers={result.customers} policies={result.policies} target_s=60"
        )


if __name__ == "__main__":
    main()
