"""Operations endpoints of scoring (role `ops`) and its business gauges on `/metrics`."""

from typing import Annotated, Any

from fastapi import APIRouter, Depends, FastAPI, Request
from sqlalchemy.ext.asyncio import AsyncEngine

from services.scoring.ops_queries import pending_upgrades
from shared.auth import Principal, require_roles
from shared.metrics import ServiceMetrics, set_labelled
from shared.ruleset import Ruleset, load_ruleset

router = APIRouter(prefix="/v1/ops", tags=["operations"])

Ops = Annotated[Principal, Depends(require_roles("ops"))]


def install(app: FastAPI) -> APIRouter:
    """Registers the refresh of scoring's gauges on the app's metrics; the router to include."""
    runtime = app.state.runtime
    engine: AsyncEngine = runtime.transactions.engine
    ruleset = load_ruleset(runtime.settings.ruleset_path)
    app.state.ops_ruleset = ruleset

    async def refresh(metrics: ServiceMetrics) -> None:
        async with engine.connect() as connection:
            upgrades = await pending_upgrades(connection, ruleset=ruleset)
        by_tier: dict[str, float] = {}
        for upgrade in upgrades:
            by_tier[upgrade.to_tier.value] = by_tier.get(upgrade.to_tier.value, 0) + upgrade.customers
        set_labelled(metrics.cooling_off_upgrades, by_tier)

    runtime.metrics.refresh_business_with(refresh)
    return router


@router.get("/cooling-off")
async def cooling_off_upgrades(request: Request, _: Ops) -> dict[str, Any]:
    """Pending cooling-off upgrades by date: customers whose pending points, once their cooling-off
    ends, lift them to a higher 2015 tier; `total` counts each (date, tier) pair's customers."""
    ruleset: Ruleset = request.app.state.ops_ruleset
    async with request.app.state.runtime.transactions.engine.connect() as connection:
        upgrades = await pending_upgrades(connection, ruleset=ruleset)
    return {
        "total": sum(upgrade.customers for upgrade in upgrades),
        "upgrades": [
            {"due_on": upgrade.due_on.isoformat(), "to_tier": upgrade.to_tier.value, "customers": upgrade.customers}
            for upgrade in upgrades
        ],
    }
