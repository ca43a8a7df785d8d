"""The scoring service's composition root: everything is built here, nothing at import time."""

from functools import partial
from pathlib import Path

from fastapi import FastAPI

from services.scoring import api, consumers, ops
from services.scoring.config import ScoringSettings
from services.scoring.repositories import ScoringUnitOfWork
from shared.group_ruleset import load_group_ruleset
from shared.ruleset import load_ruleset
from shared.service import build_service_app, run_service

MIGRATIONS_DIR = Path(__file__).parent / "migrations"


def create_app(settings: ScoringSettings) -> FastAPI:
    """The ruleset is loaded once, here, and handed to everything that needs it."""
    ruleset = load_ruleset(settings.ruleset_path)
    group_ruleset = load_group_ruleset(settings.group_ruleset_path)
    return build_service_app(
        title="VIP scoring",
        settings=settings,
        ruleset=ruleset,
        make_unit_of_work=partial(
            ScoringUnitOfWork,
            ruleset=ruleset,
            group_ruleset=group_ruleset,
            coalesce_from_policies=settings.coalesce_from_policies,
        ),
        routes=consumers.routes(),
        publishes_to=consumers.PUBLISHES_TO,
        migrations_dir=MIGRATIONS_DIR,
        routers=[*api.ROUTERS, ops.router],
        gauges=ops.gauges,
    )


def main() -> None:
    run_service(settings=ScoringSettings(), create_app=create_app)


if __name__ == "__main__":
    main()
