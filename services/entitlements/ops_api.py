"""Operations endpoints of entitlements (role `ops`) and its business gauges on `/metrics`.

Usage and cost per channel, branch and vendor for a period is `GET /v1/reports/costs`; this adds the
all-time figures behind the `vip_redemptions` and `vip_redemption_cost` gauges.
"""

from decimal import Decimal
from typing import Annotated, Any

from fastapi import APIRouter, Depends, FastAPI, Request
from sqlalchemy.ext.asyncio import AsyncEngine

from services.entitlements.ops_queries import usage_by_channel, usage_by_channel_branch_vendor
from shared.auth import Principal, require_roles
from shared.metrics import ServiceMetrics, set_labelled

router = APIRouter(prefix="/v1/ops", tags=["operations"])

Ops = Annotated[Principal, Depends(require_roles("ops"))]


def install(app: FastAPI) -> APIRouter:
    """Registers the refresh of entitlements' gauges on the app's metrics; the router to include."""
    runtime = app.state.runtime
    engine: AsyncEngine = runtime.transactions.engine

    async def refresh(metrics: ServiceMetrics) -> None:
        async with engine.connect() as connection:
            usage = await usage_by_channel_branch_vendor(connection)
        uses: dict[tuple[str, ...], float] = {(row.channel, row.branch, row.vendor): row.redemptions for row in usage}
        costs: dict[tuple[str, ...], float] = {(row.channel, row.branch, row.vendor): float(row.cost) for row in usage}
        set_labelled(metrics.redemptions, uses)
        set_labelled(metrics.redemption_cost, costs)

    runtime.metrics.refresh_business_with(refresh)
    return router


@router.get("/redemptions")
async def redemptions_by_channel(request: Request, _: Ops) -> dict[str, Any]:
    """All-time value-added uses not reversed, and their cost, per serving channel."""
    engine: AsyncEngine = request.app.state.runtime.transactions.engine
    async with engine.connect() as connection:
        usage = await usage_by_channel(connection)
    return {
        "redemptions": sum(row.redemptions for row in usage),
        "cost": f"{sum((row.cost for row in usage), Decimal('0.00')):.2f}",
        "by_channel": [
            {"channel": row.channel, "redemptions": row.redemptions, "cost": f"{row.cost:.2f}"} for row in usage
        ],
    }
