"""Operations endpoints of assignment (role `ops`) and its business gauges on `/metrics`."""

from datetime import date, datetime
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, FastAPI, Request
from sqlalchemy.ext.asyncio import AsyncEngine

from services.assignment.ops_queries import Unassigned, load_by_channel, load_spread, unassigned_by_channel
from shared.auth import Principal, require_roles
from shared.metrics import ServiceMetrics, set_labelled
from shared.ruleset import load_ruleset

router = APIRouter(prefix="/v1/ops", tags=["operations"])

Ops = Annotated[Principal, Depends(require_roles("ops"))]


def _days_waiting(group: Unassigned, today: date) -> int:
    return (today - group.oldest_since).days if group.oldest_since is not None else 0


def install(app: FastAPI) -> APIRouter:
    """Registers the refresh of assignment's gauges on the app's metrics; the router to include."""
    runtime = app.state.runtime
    engine: AsyncEngine = runtime.transactions.engine
    zone = app.state.ops_zone = load_ruleset(runtime.settings.ruleset_path).zone

    async def refresh(metrics: ServiceMetrics) -> None:
        async with engine.connect() as connection:
            groups = await unassigned_by_channel(connection)
            loads = await load_by_channel(connection)
        set_labelled(metrics.representatives_serving, {load.channel: load.representatives for load in loads})
        set_labelled(metrics.vips_represented, {load.channel: load.represented for load in loads})
        set_labelled(metrics.representative_load_max, {load.channel: load.max_load for load in loads})
        today = datetime.now(zone).date()
        set_labelled(metrics.vips_without_representative, {group.channel: group.customers for group in groups})
        set_labelled(
            metrics.vips_without_representative_oldest_days,
            {group.channel: _days_waiting(group, today) for group in groups},
        )

    runtime.metrics.refresh_business_with(refresh)
    return router


@router.get("/representation")
async def representation(request: Request, _: Ops) -> dict[str, Any]:
    """VIPs without a representative per serving channel (count, waiting since, days waited) and the
    spread of the load over the service persons representing anyone."""
    zone: ZoneInfo = request.app.state.ops_zone
    engine: AsyncEngine = request.app.state.runtime.transactions.engine
    async with engine.connect() as connection:
        groups = await unassigned_by_channel(connection)
        spread = await load_spread(connection)
    today = datetime.now(zone).date()
    return {
        "unassigned": {
            "total": sum(group.customers for group in groups),
            "by_channel": [
                {
                    "channel": group.channel,
                    "customers": group.customers,
                    "oldest_since": group.oldest_since.isoformat() if group.oldest_since else None,
                    "oldest_days": _days_waiting(group, today),
                }
                for group in groups
            ],
        },
        "loads": {
            "representatives": spread.representatives,
            "represented": spread.represented,
            "max_load": spread.max_load,
        },
    }
