"""`GET /v1/ops/exports/policies` (role `ops`): every stored policy state, for `vip simulate` and
`vip reconcile`, which read the book through scoring's interface, never its database.

One line per policy; with `?sorted=true`, ordered by policy number in byte order (`COLLATE "C"`: the
order a client's plain string comparison agrees with, so it can merge the stream with a sorted
snapshot; the sort costs the database a pass, so a reader that needs no order leaves it out):
`{"last_event_type": ..., "policy": <PolicyState as the last applied event carried it>}`, after the
header line of `shared.exports`.
"""

from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import text
from starlette.responses import StreamingResponse

from services.scoring.api.dependencies import Transactions
from shared.api import PROBLEMS, Ops
from shared.exports import NDJSON, ndjson_export

router: APIRouter = APIRouter(prefix="/v1/ops/exports", tags=["operations"], responses=PROBLEMS)

_COUNT = text("SELECT count(*) FROM policies")
_ROWS = """SELECT '{"last_event_type":' || to_json(last_event_type)::text || ',"policy":' || state::text || '}'
           FROM policies"""
_SORTED = text(_ROWS + ' ORDER BY policy_no COLLATE "C"')
_UNSORTED = text(_ROWS)


class PolicyLine(BaseModel):
    """One line of the export after the header line `{"export": "policies", "rows": N}`."""

    model_config = ConfigDict(json_schema_extra={"examples": [
        {"last_event_type": "policy_changed", "policy": {"policy_no": "P2026000123", "holder_id": "C000981"}}
    ]})

    last_event_type: str = Field(description="the type of the last event applied to the policy")
    policy: dict[str, Any] = Field(description="the policy's state as that event carried it (`PolicyState`)")


@router.get("/policies", response_class=StreamingResponse, responses={200: {
    "model": PolicyLine, "content": {NDJSON: {}},
    "description": f"`{NDJSON}`: the header line, then one `PolicyLine` per policy",
}})
async def export_policies(
    _: Ops,
    transactions: Transactions,
    in_order: Annotated[bool, Query(alias="sorted", description="in policy-number order (byte order)")] = False,
) -> StreamingResponse:
    """Every policy the platform knows, as NDJSON from one consistent snapshot (header line first)."""
    rows = _SORTED if in_order else _UNSORTED
    return ndjson_export(engine=transactions.engine, name="policies", count=_COUNT, rows=rows)
