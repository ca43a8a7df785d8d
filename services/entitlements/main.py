"""The entitlements service's composition root: everything is built here, nothing at import time."""

from functools import partial
from pathlib import Path

from fastapi import FastAPI

from services.entitlements import api, consumers, ops
from services.entitlements.config import EntitlementsSettings
from services.entitlements.repositories import EntitlementsUnitOfWork
from services.entitlements.repositories.lookup import CustomerLookup
from shared.group_ruleset import load_group_ruleset
from shared.ruleset import load_ruleset
from shared.service import build_service_app, run_service

MIGRATIONS_DIR = Path(__file__).parent / "migrations"


def create_app(settings: EntitlementsSettings) -> FastAPI:
    ruleset = load_ruleset(settings.ruleset_path)
    group_ruleset = load_group_ruleset(settings.group_ruleset_path)
    app = build_service_app(
        title="VIP entitlements",
        settings=settings,
        ruleset=ruleset,
        make_unit_of_work=partial(EntitlementsUnitOfWork, ruleset=ruleset, group_ruleset=group_ruleset),
        routes=consumers.routes(),
        publishes_to=consumers.PUBLISHES_TO,
        migrations_dir=MIGRATIONS_DIR,
        routers=[*api.ROUTERS, ops.router],
        gauges=partial(ops.group_gauges, group_ruleset=group_ruleset),
    )
    app.state.group_ruleset = group_ruleset
    # The call-center look-up's own asyncpg pool (repositories/lookup.py), opened with the app.
    lookup = app.state.customer_lookup = CustomerLookup(settings=settings)
    app.router.lifespan_context = lookup.around(app.router.lifespan_context)
    return app


def main() -> None:
    run_service(settings=EntitlementsSettings(), create_app=create_app)


if __name__ == "__main__":
    main()
