"""The entitlements service's composition root: everything is built here, nothing at import time."""

from functools import partial
from pathlib import Path

from fastapi import FastAPI

from services.entitlements import api, api_admin, consumers, ops_api
from services.entitlements.config import EntitlementsSettings
from services.entitlements.lookup import CustomerLookup
from services.entitlements.repository import EntitlementsUnitOfWork
from shared.db import Transactions, create_engine
from shared.http import create_service_app, serve
from shared.logs import configure_logging
from shared.metrics import ServiceMetrics
from shared.ruleset import load_ruleset
from shared.runtime import ServiceRuntime

MIGRATIONS_DIR = Path(__file__).parent / "migrations"


def create_app(settings: EntitlementsSettings) -> FastAPI:
    ruleset = load_ruleset(settings.ruleset_path)
    transactions = Transactions(
        engine=create_engine(settings=settings),
        make_unit_of_work=partial(EntitlementsUnitOfWork, ruleset=ruleset),
    )
    runtime = ServiceRuntime(
        settings=settings,
        transactions=transactions,
        routes=consumers.routes(),
        publishes_to=consumers.PUBLISHES_TO,
        migrations_dir=MIGRATIONS_DIR,
        metrics=ServiceMetrics(service=settings.service_name),
    )
    app = create_service_app(title="VIP entitlements", runtime=runtime)
    lookup = app.state.customer_lookup = CustomerLookup(settings=settings)
    app.router.lifespan_context = lookup.around(app.router.lifespan_context)
    app.include_router(api.router)
    app.include_router(api_admin.router)
    app.include_router(ops_api.install(app))
    return app


def main() -> None:
    settings = EntitlementsSettings()
    configure_logging(service=settings.service_name, level=settings.log_level, as_json=settings.log_json)
    serve(app=create_app(settings), host=settings.http_host, port=settings.http_port)


if __name__ == "__main__":
    main()
