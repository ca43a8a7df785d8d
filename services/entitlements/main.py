"""The entitlements service's composition root: everything is built here, nothing at import time."""

from functools import partial
from pathlib import Path

from fastapi import FastAPI

from services.entitlements import api, api_admin, consumers, ops_api
from services.entitlements.config import EntitlementsSettings
from services.entitlements.lookup import CustomerLookup
from services.entitlements.repository import EntitlementsUnitOfWork
from shared.ruleset import load_ruleset
from shared.service import build_service_app, run_service

MIGRATIONS_DIR = Path(__file__).parent / "migrations"


def create_app(settings: EntitlementsSettings) -> FastAPI:
    ruleset = load_ruleset(settings.ruleset_path)
    app = build_service_app(
        title="VIP entitlements",
        settings=settings,
        make_unit_of_work=partial(EntitlementsUnitOfWork, ruleset=ruleset),
        routes=consumers.routes(),
        publishes_to=consumers.PUBLISHES_TO,
        migrations_dir=MIGRATIONS_DIR,
    )
    lookup = app.state.customer_lookup = CustomerLookup(settings=settings)
    app.router.lifespan_context = lookup.around(app.router.lifespan_context)
    app.include_router(api.router)
    app.include_router(api_admin.router)
    app.include_router(ops_api.install(app))
    return app


def main() -> None:
    run_service(settings=EntitlementsSettings(), create_app=create_app)


if __name__ == "__main__":
    main()
