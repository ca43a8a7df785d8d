"""`vip reconcile` of a 2,000,000-policy snapshot, beside a plain read of the file as the floor.

    python -m bench.reconcile [--customers 1000000] [--policies 2000000]

The book is written straight into scoring's database (bench/book.py); the snapshot is the same book
as the policy admin system would send it (every policy's state, one JSON line each, in policy-number
order) with a difference every 1,000 lines (a surrender at a later version), a policy missing every
10,000 lines and a malformed line every 100,000. The reconciliation runs as `vip reconcile` does
(scoring's export over HTTP merged with the file, the report written) without --publish. Prints the
time, the floor (reading the file's lines, nothing done with them) and the peak resident memory,
which stays flat: neither side is ever held whole. Target: <= 120 s.
"""

import argparse
import asyncio
import datetime as dt
import resource
import tempfile
import time
from pathlib import Path

import asyncpg
import orjson

from bench.book import TOKEN, prepared_book
from cli.reconcile.command import run, summary
from shared.ruleset import load_ruleset
from shared.settings import DEFAULT_RULESET_PATH


async def write_snapshot(dsn: str, *, into: Path) -> None:
    exported = into.with_suffix(".raw")
    connection = await asyncpg.connect(dsn)
    try:
        await connection.copy_from_query(
            'SELECT state::text FROM policies ORDER BY policy_no COLLATE "C"', output=str(exported)
        )
    finally:
        await connection.close()
    with exported.open("rb") as source, into.open("wb") as out:
        for number, line in enumerate(source, start=1):
            if number % 100_000 == 0:
                out.write(b"{broken line\n")
            if number % 10_000 == 0:
                continue
            if number % 1_000 == 0:
                state = orjson.loads(line)
                state |= {"version": state["version"] + 1, "status": "surrendered"}
                out.write(orjson.dumps(state) + b"\n")
                continue
            out.write(line)
    exported.unlink()


def plain_read(path: Path) -> int:
    with path.open("rb") as handle:
        return sum(1 for _ in handle)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--policies", type=int, default=2_000_000)
    arguments = parser.parse_args()
    ruleset = load_ruleset(DEFAULT_RULESET_PATH)
    with (
        tempfile.TemporaryDirectory() as folder,
        prepared_book(customers=arguments.customers, policies=arguments.policies) as book,
    ):
        snapshot = Path(folder) / "snapshot.jsonl"
        asyncio.run(write_snapshot(book.scoring_dsn, into=snapshot))
        started = time.perf_counter()
        lines = plain_read(snapshot)
        floor_s = time.perf_counter() - started
        rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        started = time.perf_counter()
        with (Path(folder) / "report.csv").open("w", newline="") as report:
            tally = run(
                path=snapshot, ruleset=ruleset, as_of=dt.date(2026, 12, 2), token=TOKEN,
                http_port_base=book.http_base, full=True, report=report, corrections=None,
            )  # fmt: skip
        reconcile_s = time.perf_counter() - started
        rss_after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        print("\n".join(summary(tally, full=True, published=None)[:8]))
        print(
            f"reconcile_s={reconcile_s:.1f} floor_plain_read_s={floor_s:.1f} (lines {lines}) "
            f"peak_rss_mb_before={rss_before / 1024:.0f} peak_rss_mb_after={rss_after / 1024:.0f} target_s=120"
        )


if __name__ == "__main__":
    main()
