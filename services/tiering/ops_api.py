"""Operations endpoints of tiering (role `ops`) and its business gauges on `/metrics`."""

from datetime import date, datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, FastAPI, HTTPException, Query, Request, status
from sqlalchemy.ext.asyncio import AsyncEngine

from services.tiering.ops_queries import daily_movements, honorary_waiting, tier_distribution
from shared.auth import Principal, require_roles
from shared.metrics import ServiceMetrics, set_labelled
from shared.ruleset import load_ruleset

router = APIRouter(prefix="/v1/ops", tags=["operations"])

Ops = Annotated[Principal, Depends(require_roles("ops"))]


def _engine(request: Request) -> AsyncEngine:
    engine: AsyncEngine = request.app.state.runtime.transactions.engine
    return engine


def install(app: FastAPI) -> APIRouter:
    """Registers the refresh of tiering's gauges on the app's metrics; the router to include."""
    runtime = app.state.runtime
    engine: AsyncEngine = runtime.transactions.engine
    app.state.ops_zone = load_ruleset(runtime.settings.ruleset_path).zone

    async def refresh(metrics: ServiceMetrics) -> None:
        async with engine.connect() as connection:
            tiers = await tier_distribution(connection)
            waiting = await honorary_waiting(connection)
        set_labelled(metrics.vips_by_tier, {tier: float(count) for tier, count in tiers.items()})
        set_labelled(metrics.honorary_waiting, {step: float(count) for step, count in waiting.items()})

    runtime.metrics.refresh_business_with(refresh)
    return router


@router.get("/tiers")
async def tiers_and_movements(
    request: Request,
    _: Ops,
    first_day: Annotated[date | None, Query(alias="from", description="first day, included")] = None,
    last_day: Annotated[date | None, Query(alias="to", description="last day, included; default today")] = None,
) -> dict[str, Any]:
    """VIPs per effective tier now, and per effective date the decisions that moved a tier: `entered`
    VIP, `up`, `down`, `left` VIP (a decision that kept the tier is not a movement). Default window:
    the 90 days up to today in the ruleset's time zone."""
    last = last_day or datetime.now(request.app.state.ops_zone).date()
    first = first_day or last - timedelta(days=89)
    if last < first:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_ENTITY, detail="'to' is before 'from'")
    async with _engine(request).connect() as connection:
        distribution = await tier_distribution(connection)
        movements = await daily_movements(connection, first_day=first, last_day=last)
    return {
        "distribution": distribution,
        "total": sum(distribution.values()),
        "from": first.isoformat(),
        "to": last.isoformat(),
        "movements": [
            {"day": day.day.isoformat(), "entered": day.entered, "up": day.up, "down": day.down, "left": day.left}
            for day in movements
        ],
    }


@router.get("/honorary-waiting")
async def honorary_applications_waiting(request: Request, _: Ops) -> dict[str, Any]:
    """Open honorary applications per step of the chain, in the chain's order."""
    async with _engine(request).connect() as connection:
        waiting = await honorary_waiting(connection)
    return {"total": sum(waiting.values()), "waiting": waiting}
