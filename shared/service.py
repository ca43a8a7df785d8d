"""Composing a service: the parts every service builds the same way, so each `main.py` names only its own
(its unit of work, its routes, its routers)."""

import gc
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TypeVar

from fastapi import APIRouter, FastAPI
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from shared.db import Transactions, U, create_engine
from shared.http import create_service_app, serve
from shared.logs import configure_logging
from shared.metrics import BusinessRefresh, ServiceMetrics
from shared.processing import Route
from shared.ruleset import Ruleset
from shared.runtime import ServiceRuntime
from shared.settings import ServiceSettings

S = TypeVar("S", bound=ServiceSettings)


def build_service_app(
    *,
    title: str,
    settings: ServiceSettings,
    ruleset: Ruleset,
    make_unit_of_work: Callable[[AsyncConnection], U],
    routes: Sequence[Route[U]],
    publishes_to: Sequence[str],
    migrations_dir: Path,
    routers: Sequence[APIRouter],
    gauges: Callable[[AsyncEngine, Ruleset], BusinessRefresh] | None = None,
) -> FastAPI:
    """The service's HTTP app with its runtime (migrations, consumer loop, outbox relay) behind it.

    The ruleset is loaded once, by `main.create_app`, and handed to everything that needs it
    (`app.state.ruleset` for the routers, `gauges` for the business gauges on `/metrics`).
    """
    transactions = Transactions(engine=create_engine(settings=settings), make_unit_of_work=make_unit_of_work)
    runtime = ServiceRuntime(
        settings=settings,
        transactions=transactions,
        routes=routes,
        publishes_to=publishes_to,
        migrations_dir=migrations_dir,
        metrics=ServiceMetrics(service=settings.service_name),
    )
    if gauges is not None:
        runtime.metrics.refresh_business_with(gauges(transactions.engine, ruleset))
    app = create_service_app(title=title, runtime=runtime)
    app.state.ruleset = ruleset
    for router in routers:
        app.include_router(router)
    return app


def run_service(*, settings: S, create_app: Callable[[S], FastAPI]) -> None:
    """One service process: JSON logs, then the app served until SIGTERM or Ctrl-C."""
    configure_logging(service=settings.service_name, level=settings.log_level, as_json=settings.log_json)
    app = create_app(settings)
    collect_garbage_less_often(young_threshold=settings.gc_young_threshold)
    serve(app=app, host=settings.http_host, port=settings.http_port)


def collect_garbage_less_often(*, young_threshold: int) -> None:
    """Everything built at start (modules, routes, the ruleset) is frozen out of the collector's scans,
    and young collections run every `young_threshold` allocations instead of every 700.

    Why: an event allocates hundreds of short-lived objects (decoded contracts, rows, domain values),
    so CPython collected every few events and, every tenth and hundredth time, walked every object the
    process holds; with the platform's modules loaded that was a fifth of a service's CPU per event
    (docs/performance.md). Reference counting still frees almost everything at once; the collector is
    only for cycles, which are rare here, so collecting them later costs little memory.
    """
    if young_threshold <= 0:
        return
    gc.collect()
    gc.freeze()
    _, middle, old = gc.get_threshold()
    gc.set_threshold(young_threshold, middle, old)
