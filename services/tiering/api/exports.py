"""`GET /v1/ops/exports/tiers` (role `ops`): every customer's current tier and what decides the next
one, for `vip simulate`, which reads the book through tiering's interface, never its database.

One line per customer, in no particular order, after the header line of
`shared.exports`: `customer_id`, `tier` (effective, of the last decision), `standard`,
`honorary_tier` and `honorary_expires_on` (the tier lapses on that day), `keeps_legacy` (held legacy
VIP status at cutover and has not fallen below legacy Gold since: judged on the legacy standard),
and the last score's `points` and `standard_premium` as strings.
"""

from datetime import date

from fastapi import APIRouter
from pydantic import BaseModel, Field
from sqlalchemy import text
from starlette.responses import StreamingResponse

from services.tiering.api.dependencies import Transactions
from shared.api import PROBLEMS, Ops
from shared.exports import NDJSON, ndjson_export

router: APIRouter = APIRouter(prefix="/v1/ops/exports", tags=["operations"], responses=PROBLEMS)

_COUNT = text("SELECT count(*) FROM customers")
_ROWS = text(
    """SELECT json_build_object(
           'customer_id', customer_id, 'tier', tier, 'standard', standard,
           'honorary_tier', honorary_tier, 'honorary_expires_on', honorary_expires_on,
           'keeps_legacy', (legacy_vip_before_cutover OR legacy_on_roster) AND NOT legacy_fell_below,
           'points', score->>'points', 'standard_premium', score->>'standard_premium')::text
       FROM customers"""
)


class TierLine(BaseModel):
    """One line of the export after the header line `{"export": "tiers", "rows": N}`."""

    customer_id: str
    tier: str | None = Field(description="the effective tier of the last decision; None: not a VIP")
    standard: str | None = Field(description="the standard the tier was judged on")
    honorary_tier: str | None
    honorary_expires_on: date | None = Field(description="the honorary tier lapses on that day")
    keeps_legacy: bool | None = Field(description="held legacy VIP status at cutover and never fell below legacy Gold")
    points: str | None = Field(description="the last score's points, a decimal string")
    standard_premium: str | None = Field(description="the last score's standard premium, a decimal string")


@router.get("/tiers", response_class=StreamingResponse, responses={200: {
    "model": TierLine, "content": {NDJSON: {}},
    "description": f"`{NDJSON}`: the header line, then one `TierLine` per customer",
}})
async def export_tiers(_: Ops, transactions: Transactions) -> StreamingResponse:
    """Every customer tiering knows, as NDJSON from one consistent snapshot (header line first)."""
    return ndjson_export(engine=transactions.engine, name="tiers", count=_COUNT, rows=_ROWS)
