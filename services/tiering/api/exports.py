"""`GET /v1/ops/exports/tiers` (role `ops`): every customer's current tier and what decides the next
one, for `vip simulate`, which reads the book through tiering's interface, never its database.

One line per customer, in no particular order, after the header line of
`shared.exports`: `customer_id`, `tier` (effective, of the last decision), `standard`,
`honorary_tier` and `honorary_expires_on` (the tier lapses on that day), `keeps_legacy` (held legacy
VIP status at cutover and has not fallen below legacy Gold since: judged on the legacy standard),
and the last score's `points` and `standard_premium` as strings.
"""

from fastapi import APIRouter
from sqlalchemy import text
from starlette.responses import StreamingResponse

from services.tiering.api.dependencies import Transactions
from shared.api import Ops
from shared.exports import NDJSON, ndjson_export

router: APIRouter = APIRouter(prefix="/v1/ops/exports", tags=["operations"])

_COUNT = text("SELECT count(*) FROM customers")
_ROWS = text(
    """SELECT json_build_object(
           'customer_id', customer_id, 'tier', tier, 'standard', standard,
           'honorary_tier', honorary_tier, 'honorary_expires_on', honorary_expires_on,
           'keeps_legacy', (legacy_vip_before_cutover OR legacy_on_roster) AND NOT legacy_fell_below,
           'points', score->>'points', 'standard_premium', score->>'standard_premium')::text
       FROM customers"""
)


@router.get("/tiers", response_class=StreamingResponse, responses={200: {"content": {NDJSON: {}}}})
async def export_tiers(_: Ops, transactions: Transactions) -> StreamingResponse:
    """Every customer tiering knows, as NDJSON from one consistent snapshot (header line first)."""
    return ndjson_export(engine=transactions.engine, name="tiers", count=_COUNT, rows=_ROWS)
