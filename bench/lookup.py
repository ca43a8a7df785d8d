"""Call-center look-up speed: `GET /v1/customers/{id}` on entitlements against a raw FastAPI read.

    python bench/lookup.py --customers 100000 --connections 16 --seconds 10 --rounds 2

Issue 8's target: at 16 connections the look-up reaches at least 0.8 of the req/s of a minimal
FastAPI + asyncpg primary-key read measured in the same run, with p99 <= 10 ms.

What it does, in a temporary directory:
1. starts an embedded PostgreSQL, migrates the entitlements database and COPYs `--customers`
   customers (with a representative) into its own `customers` table;
2. serves, one at a time, in a child process each, under uvicorn with uvloop + httptools and one
   worker (`shared.http.serve`):
   - `entitlements`: the real app of `services.entitlements.main.create_app` (auth, middleware,
     routes), except that its runtime starts no consumer loop or relay (no broker here: the
     look-up does not touch them);
   - `raw`: a FastAPI app with one route doing `asyncpg` `fetchrow` by primary key on the same
     table through a pool of the same size, returning the row as a dict, no auth, no middleware;
3. drives each with `wrk` (one thread, `--connections` connections, a random customer id per
   request from a Lua script), after a short warm-up, alternating the two apps for `--rounds`
   rounds so both see the same machine load; the figures are the means over the rounds.

`wrk` comes from Debian: `apt-get install -y wrk` (4.1.0 on bookworm). Without it, `--client httpx`
uses an asyncio httpx pool; it also measures its own ceiling against `/healthz`, since on a small
machine the Python client can be the bottleneck (wrk is not: it uses a few % of one core).

The last line is `lookup_rps=<x> raw_rps=<y> ratio=<x/y> p50_ms=.. p99_ms=..` (latencies: the
look-up's).
"""

import argparse
import asyncio
import json
import os
import random
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.lookup_load import TOKEN, WRK_SCRIPT, Measured, measure, run_httpx

REPO = Path(__file__).resolve().parent.parent



def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


# --- the two servers (run in child processes) ---------------------------------------------------


def serve_entitlements(database_url: str, port: int) -> None:
    from services.entitlements.config import EntitlementsSettings
    from services.entitlements.main import create_app
    from shared.http import serve
    from shared.service import collect_garbage_less_often

    settings = EntitlementsSettings(
        database_url=database_url, http_port=port, api_tokens=f"{TOKEN}=call_center", log_level="WARNING",
        http_rate_per_s=0,  # one bench token makes thousands of requests a second: no per-user limit here
    )
    app = create_app(settings)
    runtime = app.state.runtime

    async def start_without_broker() -> None:
        """Migrations were run by the parent; no consumer loop or relay: no broker in this bench."""

    runtime.start = start_without_broker
    collect_garbage_less_often(young_threshold=settings.gc_young_threshold)  # as `run_service` does
    serve(app=app, host="127.0.0.1", port=port)


def serve_raw(dsn: str, port: int, pool_size: int) -> None:
    from contextlib import asynccontextmanager

    import asyncpg  # type: ignore[import-untyped]
    from fastapi import FastAPI, HTTPException

    from shared.http import serve

    pool: Any = None

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> Any:
        nonlocal pool
        pool = await asyncpg.create_pool(dsn, min_size=pool_size, max_size=pool_size)
        yield
        await pool.close()

    app = FastAPI(lifespan=lifespan)

    @app.get("/raw/customers/{customer_id}")
    async def customer(customer_id: str) -> dict[str, Any]:
        row = await pool.fetchrow(
            "SELECT customer_id, tier, honorary_tier, standard, points, vip_since, serving_channel, representative "
            "FROM customers WHERE customer_id = $1",
            customer_id,
        )
        if row is None:
            raise HTTPException(404)
        return dict(row)

    @app.get("/healthz")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    serve(app=app, host="127.0.0.1", port=port)


# --- loading ------------------------------------------------------------------------------------


async def load_customers(database_url: str, dsn: str, count: int) -> None:
    import asyncpg
    from sqlalchemy.ext.asyncio import create_async_engine

    from services.entitlements.main import MIGRATIONS_DIR
    from shared.migrations import upgrade_to_head

    engine = create_async_engine(database_url)
    await upgrade_to_head(engine=engine, migrations_dir=MIGRATIONS_DIR)
    await engine.dispose()
    rng = random.Random(8)
    tiers = [None, "gold", "platinum", "diamond"]
    channels = ["agency", "bancassurance", "brokerage", "ecommerce"]
    records = []
    for index in range(count):
        tier = rng.choice(tiers)
        channel = rng.choice(channels)
        agent = f"A{rng.randint(1, 500):05d}"
        representative = json.dumps({"agent_id": agent, "name": f"Agent {agent}", "channel": channel})
        records.append((
            f"C{index:07d}", 1, tier, tier, None, "2015", rng.randint(10_000, 400_000),
            None if tier is None else _date(2026, 1 + index % 12, 1 + index % 28), channel,
            rng.choice(["GD-SZ", "BJ-HD", "SH-PD"]), 1, representative,
        ))
    connection = await asyncpg.connect(dsn)
    try:
        await connection.copy_records_to_table(
            "customers",
            records=records,
            columns=[
                "customer_id", "tier_revision", "tier", "computed_tier", "honorary_tier", "standard", "points",
                "vip_since", "serving_channel", "branch", "representative_revision", "representative",
            ],
        )
        await connection.execute("ANALYZE customers")
    finally:
        await connection.close()


def _date(year: int, month: int, day: int) -> Any:
    from datetime import date

    return date(year, month, day)


# --- load generation ----------------------------------------------------------------------------


def wait_until_up(port: int, path: str, child: subprocess.Popen[bytes]) -> None:
    import httpx

    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if child.poll() is not None:
            raise RuntimeError(f"server on {port} exited with {child.returncode}")
        try:
            answer = httpx.get(f"http://127.0.0.1:{port}{path}", headers={"Authorization": f"Bearer {TOKEN}"})
            if answer.status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"server on {port} did not answer {path}")


def main(arguments: argparse.Namespace) -> None:
    from cli.postgres import EmbeddedPostgres

    if arguments.client == "wrk" and shutil.which("wrk") is None:
        sys.exit("wrk not found: apt-get install -y wrk, or run with --client httpx")
    with tempfile.TemporaryDirectory(prefix="vip-lookup-") as scratch:
        postgres = EmbeddedPostgres()
        postgres.start(Path(scratch) / "pgdata")
        try:
            asyncio.run(postgres.create_databases(["bench_lookup"]))
            database_url = postgres.database_url("bench_lookup")
            dsn = postgres.server_url("bench_lookup")
            started = time.perf_counter()
            asyncio.run(load_customers(database_url, dsn, arguments.customers))
            print(f"loaded {arguments.customers} customers in {time.perf_counter() - started:.1f}s", flush=True)
            script = Path(scratch) / "lookup.lua"
            script.write_text(WRK_SCRIPT)
            results: dict[str, list[Measured]] = {"entitlements": [], "raw": []}
            cpu_per_request: dict[str, list[float]] = {"entitlements": [], "raw": []}
            for round_number in range(arguments.rounds):
                for name in ("entitlements", "raw"):
                    port = free_port()
                    target = database_url if name == "entitlements" else dsn
                    child = subprocess.Popen(
                        [sys.executable, "-m", "bench.lookup", "--serve", name, "--target", target,
                         "--port", str(port)],
                        cwd=REPO,
                    )
                    try:
                        prefix = "/v1/customers/" if name == "entitlements" else "/raw/customers/"
                        wait_until_up(port, prefix + "C0000000", child)
                        url_prefix = f"http://127.0.0.1:{port}{prefix}"
                        measure(arguments, url_prefix, arguments.warmup, round_number + 100, script)
                        if arguments.client == "httpx" and round_number == 0 and name == "raw":
                            ceiling = run_httpx(f"http://127.0.0.1:{port}/healthz?", customers=1,
                                                connections=arguments.connections, seconds=arguments.warmup, seed=1)
                            print(f"httpx client ceiling against /healthz: {ceiling.rps:.0f} req/s", flush=True)
                        cpu_before = cpu_seconds(child.pid)
                        found = measure(arguments, url_prefix, arguments.seconds, round_number, script)
                        cpu_per_request[name].append((cpu_seconds(child.pid) - cpu_before) / found.requests * 1e6)
                    finally:
                        child.send_signal(signal.SIGINT)
                        child.wait(timeout=30)
                    results[name].append(found)
                    print(f"round {round_number + 1} {name}: {found.rps:.0f} req/s, p50 {found.p50_ms:.2f} ms, "
                          f"p99 {found.p99_ms:.2f} ms, errors {found.errors}, "
                          f"server CPU {cpu_per_request[name][-1]:.0f} us/request", flush=True)
        finally:
            postgres.stop()
    lookup, raw = results["entitlements"], results["raw"]
    lookup_rps = statistics.mean(m.rps for m in lookup)
    raw_rps = statistics.mean(m.rps for m in raw)
    raw_p50, raw_p99 = statistics.mean(m.p50_ms for m in raw), statistics.mean(m.p99_ms for m in raw)
    print(f"raw: p50_ms={raw_p50:.2f} p99_ms={raw_p99:.2f}")
    lookup_cpu, raw_cpu = statistics.mean(cpu_per_request["entitlements"]), statistics.mean(cpu_per_request["raw"])
    print(
        f"server CPU per request: lookup {lookup_cpu:.0f} us, raw {raw_cpu:.0f} us, "
        f"ratio raw/lookup {raw_cpu / lookup_cpu:.2f} (the req/s ratio a CPU-bound server would reach)"
    )
    print(
        f"lookup_rps={lookup_rps:.0f} raw_rps={raw_rps:.0f} ratio={lookup_rps / raw_rps:.2f} "
        f"p50_ms={statistics.mean(m.p50_ms for m in lookup):.2f} p99_ms={statistics.mean(m.p99_ms for m in lookup):.2f}"
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--warmup", type=float, default=3)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--client", choices=["wrk", "httpx"], default="wrk")
    parser.add_argument("--serve", choices=["entitlements", "raw"], help=argparse.SUPPRESS)
    parser.add_argument("--target", help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--pool-size", type=int, default=10, help="the raw app's pool (entitlements: db_pool_size)")
    parsed = parser.parse_args()
    if parsed.serve == "entitlements":
        serve_entitlements(parsed.target, parsed.port)
    elif parsed.serve == "raw":
        serve_raw(parsed.target, parsed.port, parsed.pool_size)
    else:
        main(parsed)
