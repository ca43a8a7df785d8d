"""A large book for the simulate and reconcile benchmarks, and the services' export endpoints over it.

`prepared_book(customers, policies)` starts an embedded PostgreSQL in a temporary directory, migrates
scoring's, tiering's and entitlements' databases, writes the book straight into them in bulk
(set-based `INSERT ... SELECT generate_series`, server-side: no event goes through the pipeline), and
serves each service's real export router (`services.*.api.exports`, entitlements' `vendors`) in a
process of its own, so the command being measured does not share a CPU-bound interpreter with them.
The services' consumers and relays are not started: the exports read the database only.

    python -m bench.book serve --service scoring --port 18101 --database-url ... --tokens t=ops
"""

import argparse
import asyncio
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from types import SimpleNamespace

import asyncpg
import httpx

from cli.launch import free_port
from cli.postgres import EmbeddedPostgres, libpq_database_url
from shared.migrations import upgrade_to_head

TOKEN = "bench-ops"
SERVICES = {"scoring": 0, "tiering": 1, "entitlements": 3}

POLICIES_SQL = """
INSERT INTO policies (policy_no, holder_id, version, state, last_event_type)
SELECT 'P' || lpad(i::text, 9, '0'), 'C' || lpad((i % $1)::text, 8, '0'), 1 + i % 3,
       jsonb_build_object(
         'policy_no', 'P' || lpad(i::text, 9, '0'), 'version', 1 + i % 3,
         'holder_id', 'C' || lpad((i % $1)::text, 8, '0'),
         'channel', (ARRAY['agency','bancassurance','brokerage','ecommerce','telesales','group'])[1 + i % 6],
         'branch', 'GD-SZ', 'agent_id', 'A' || lpad((i % 5000)::text, 5, '0'),
         'status', CASE WHEN i % 17 = 0 THEN 'lapsed' ELSE 'in_force' END,
         'issued_on', (DATE '2015-01-01' + (i % 4000)::int)::text, 'cooling_off_ends_on', NULL,
         'product_type', (ARRAY['participating','traditional','universal','unit_linked'])[1 + i % 4],
         'payment_term_years', (ARRAY[1,3,5,8,10,15,20])[1 + i % 7],
         'payment_mode', (ARRAY['annual','semiannual','quarterly','monthly','single'])[1 + i % 5],
         'modal_premium', to_char((i * 7919 % 6000000) / 100.0, 'FM999999990.00'),
         'account_value', to_char((i * 104729 % 90000000) / 100.0, 'FM999999990.00'),
         'annuity_converted_premium', '0.00', 'premium_waived', i % 97 = 0, 'paid_up', i % 89 = 0,
         'loan_outstanding', CASE WHEN i % 53 = 0 THEN '1000.00' ELSE '0.00' END),
       'new_business'
FROM generate_series(1::bigint, $2::bigint) AS i
"""

TIERS_SQL = """
INSERT INTO customers (customer_id, score_revision, score, legacy_vip_before_cutover, legacy_on_roster,
                       legacy_fell_below, standard, tier, honorary_tier, revision)
SELECT 'C' || lpad(c::text, 8, '0'), 1,
       jsonb_build_object('points', to_char((c * 6151 % 30000000) / 100.0, 'FM999999990.00'),
                          'standard_premium', to_char((c * 6151 % 30000000) / 100.0, 'FM999999990.00')),
       c % 50 = 0, FALSE, FALSE, CASE WHEN c % 50 = 0 THEN 'legacy' ELSE '2015' END,
       (ARRAY[NULL, 'gold', 'platinum', 'diamond'])[1 + c % 4], CASE WHEN c % 1000 = 0 THEN 'gold' END, 1
FROM generate_series(0::bigint, $1::bigint - 1) AS c
"""


@dataclass(frozen=True)
class Book:
    scoring_dsn: str
    http_base: int
    customers: int
    policies: int


async def _fill(postgres: EmbeddedPostgres, *, customers: int, policies: int) -> None:
    from services.entitlements.main import MIGRATIONS_DIR as ENTITLEMENTS
    from services.scoring.main import MIGRATIONS_DIR as SCORING
    from services.tiering.main import MIGRATIONS_DIR as TIERING
    from shared.db import create_engine
    from shared.settings import ServiceSettings

    await postgres.create_databases([f"bench_{name}" for name in SERVICES])
    for name, migrations in (("scoring", SCORING), ("tiering", TIERING), ("entitlements", ENTITLEMENTS)):
        settings = ServiceSettings(service_name=name, http_port=0, database_url=postgres.database_url(f"bench_{name}"))  # type: ignore[call-arg]
        engine = create_engine(settings=settings)
        await upgrade_to_head(engine=engine, migrations_dir=migrations)
        await engine.dispose()
    scoring = await asyncpg.connect(libpq_database_url(postgres.server_url(), database="bench_scoring"))
    await scoring.execute(POLICIES_SQL, customers, policies)
    await scoring.execute("VACUUM ANALYZE policies")
    await scoring.close()
    tiering = await asyncpg.connect(libpq_database_url(postgres.server_url(), database="bench_tiering"))
    await tiering.execute(TIERS_SQL, customers)
    await tiering.execute("VACUUM ANALYZE customers")
    await tiering.close()
    entitlements = await asyncpg.connect(libpq_database_url(postgres.server_url(), database="bench_entitlements"))
    await entitlements.execute("INSERT INTO vendors (vendor_id, name, created_by) VALUES ('V1', 'bench', 'hq')")
    await entitlements.execute(
        """INSERT INTO contracts (contract_id, service_code, vendor_id, unit_cost, state, signed_by)
           VALUES ('K1', 'health_checkup', 'V1', 800, 'approved', 'hq'),
                  ('K2', 'airport_lounge', 'V1', 300, 'approved', 'hq')"""
    )
    await entitlements.close()


def _wait_until_serving(url: str, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{url}: the bench server exited with {process.returncode}")
        try:
            httpx.get(f"{url}/openapi.json", timeout=1)
            return
        except httpx.HTTPError:
            time.sleep(0.2)
    raise TimeoutError(f"{url} did not start")


@contextmanager
def prepared_book(*, customers: int, policies: int) -> Iterator[Book]:
    """The book in PostgreSQL and the three services' export endpoints on http_base (+1, +3)."""
    with tempfile.TemporaryDirectory(prefix="vip-bench-book-") as scratch:
        postgres = EmbeddedPostgres()
        postgres.start(Path(scratch) / "pgdata")
        servers: list[subprocess.Popen[bytes]] = []
        try:
            started = time.perf_counter()
            asyncio.run(_fill(postgres, customers=customers, policies=policies))
            print(f"book written: {customers} customers, {policies} policies in {time.perf_counter() - started:.1f} s")
            http_base = free_port()
            while not all(_free(http_base + offset) for offset in SERVICES.values()):
                http_base = free_port()
            for name, offset in SERVICES.items():
                url = postgres.database_url(f"bench_{name}")
                command = [sys.executable, "-m", "bench.book", "serve", "--service", name,
                           "--port", str(http_base + offset), "--database-url", url]  # fmt: skip
                servers.append(subprocess.Popen(command, env={**os.environ, "VIP_API_TOKENS": f"{TOKEN}=ops"}))
                _wait_until_serving(f"http://127.0.0.1:{http_base + offset}", servers[-1])
            yield Book(
                scoring_dsn=libpq_database_url(postgres.server_url(), database="bench_scoring"),
                http_base=http_base, customers=customers, policies=policies,
            )  # fmt: skip
        finally:
            for server in servers:
                server.terminate()
                server.wait(timeout=30)
            postgres.stop()


def _free(port: int) -> bool:
    from cli.launch import port_is_free

    return port_is_free(port)


def _serve(*, service: str, port: int, database_url: str) -> None:
    import uvicorn
    from fastapi import FastAPI

    from shared.auth import parse_api_tokens
    from shared.db import Transactions, create_engine
    from shared.ruleset import load_ruleset
    from shared.settings import DEFAULT_RULESET_PATH, ServiceSettings

    ruleset = load_ruleset(DEFAULT_RULESET_PATH)
    settings = ServiceSettings(service_name=service, http_port=port, database_url=database_url)  # type: ignore[call-arg]
    app = FastAPI()
    if service == "scoring":
        from services.scoring.api import exports as scoring_exports
        from services.scoring.repositories import ScoringUnitOfWork

        app.include_router(scoring_exports.router)
        make = partial(ScoringUnitOfWork, ruleset=ruleset)
    elif service == "tiering":
        from services.tiering.api import exports as tiering_exports
        from services.tiering.repositories import TieringUnitOfWork

        app.include_router(tiering_exports.router)
        make = partial(TieringUnitOfWork, ruleset=ruleset)  # type: ignore[arg-type]
    else:
        from services.entitlements.api import vendors
        from services.entitlements.repositories import EntitlementsUnitOfWork

        app.include_router(vendors.router)
        make = partial(EntitlementsUnitOfWork, ruleset=ruleset)  # type: ignore[arg-type]
    app.state.runtime = SimpleNamespace(
        transactions=Transactions(engine=create_engine(settings=settings), make_unit_of_work=make)
    )
    app.state.principals = parse_api_tokens(os.environ["VIP_API_TOKENS"])
    app.state.ruleset = ruleset
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning")


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("action", choices=["serve"])
    parser.add_argument("--service", choices=sorted(SERVICES), required=True)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--database-url", required=True)
    arguments = parser.parse_args()
    _serve(service=arguments.service, port=arguments.port, database_url=arguments.database_url)
