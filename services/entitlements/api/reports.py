"""The cost report for operations: usage and cost by channel, branch, vendor, service and bearer
over a window of days (rules.md section 6).

Who pays (`by_bearer`): basic services HQ customer service (`hq`), value-added services the serving
channel (`channel`), featured services their branch (`branch`). A reversed use costs nothing in the
rows and is listed under `reversals` as a credit of its unit cost (never silently removed); uses made
under a value-added period a late cooling-off cancellation withdrew are rows flagged
`withdrawn_grant: true` and summed under `totals.withdrawn_grant`.

The body stays a dict: its `by_*` lists each carry a different key column (and `by_bearer` one more),
too irregular for one typed model without changing the JSON.
"""

from collections import defaultdict
from datetime import date
from decimal import Decimal
from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel, ConfigDict, Field

from services.entitlements.api.dependencies import Transactions
from services.entitlements.repositories.redemptions import CostRow, ReversalRow
from shared.api import PROBLEMS, Ops
from shared.bounds import Day
from shared.refusals import Invalid

router: APIRouter = APIRouter(prefix="/v1", tags=["operations"])
ZERO = Decimal("0.00")


def totals_by(rows: list[CostRow], dimension: str) -> list[dict[str, Any]]:
    """Uses and cost per value of `dimension`, sorted by it (an unknown value last)."""
    sums: dict[str | None, list[Any]] = defaultdict(lambda: [0, Decimal("0.00")])
    for row in rows:
        key = getattr(row, dimension)
        sums[key][0] += row.redemptions
        sums[key][1] += row.cost
    return [
        {dimension: key, "redemptions": used, "cost": f"{cost:.2f}"}
        for key, (used, cost) in sorted(sums.items(), key=lambda item: (item[0] is None, str(item[0])))
    ]


def row_view(row: CostRow) -> dict[str, Any]:
    return {
        "channel": row.channel,
        "branch": row.branch,
        "vendor_id": row.vendor_id,
        "service_code": row.service_code,
        "borne_by": {"kind": row.bearer_kind, "name": row.bearer},
        "redemptions": row.redemptions,
        "reversed": row.reversed,
        "cost": f"{row.cost:.2f}",
        "withdrawn_grant": row.withdrawn_grant,
    }


def reversal_view(row: ReversalRow) -> dict[str, Any]:
    return {
        "redemption_id": row.redemption_id,
        "customer_id": row.customer_id,
        "service_code": row.service_code,
        "borne_by": {"kind": row.bearer_kind, "name": row.bearer},
        "redeemed_on": row.redeemed_on.isoformat(),
        "redeemed_by": row.redeemed_by,
        "reversed_at": row.reversed_at.isoformat(),
        "reversed_by": row.reversed_by,
        "reason": row.reason,
        "credit": f"{ZERO - row.unit_cost:.2f}",
    }


class Bearer(BaseModel):
    kind: str = Field(description="hq, channel or branch")
    name: str | None


class CostLine(BaseModel):
    channel: str | None
    branch: str | None
    vendor_id: str | None
    service_code: str
    borne_by: Bearer
    redemptions: int
    reversed: int
    cost: str = Field(description="CNY, two places")
    withdrawn_grant: bool


class Reversal(BaseModel):
    redemption_id: str
    customer_id: str
    service_code: str
    borne_by: Bearer
    redeemed_on: date
    redeemed_by: str
    reversed_at: str
    reversed_by: str
    reason: str | None
    credit: str = Field(description="minus the unit cost, CNY")


class Total(BaseModel):
    """One line of a `by_*` breakdown: the breakdown's own key (channel, branch, vendor_id,
    service_code or bearer with bearer_kind) beside the uses and their cost."""

    model_config = ConfigDict(extra="allow", json_schema_extra={"examples": [
        {"channel": "agency", "redemptions": 12, "cost": "2400.00"},
    ]})

    redemptions: int
    cost: str = Field(description="CNY, two places")


class WithdrawnTotals(BaseModel):
    redemptions: int
    cost: str


class Totals(BaseModel):
    redemptions: int
    reversed: int
    cost: str
    reversed_credit: str
    withdrawn_grant: WithdrawnTotals


class CostReport(BaseModel):
    """`from` and `to` are Python keywords: the fields carry them as aliases."""

    first_day: date = Field(alias="from")
    last_day: date = Field(alias="to")
    totals: Totals
    by_channel: list[Total]
    by_branch: list[Total]
    by_vendor: list[Total]
    by_service: list[Total]
    by_bearer: list[Total]
    rows: list[CostLine]
    reversals: list[Reversal]


@router.get("/reports/costs", responses=PROBLEMS)
async def cost_report(
    _: Ops,
    transactions: Transactions,
    first_day: Annotated[Day, Query(alias="from", description="first day, included")],
    last_day: Annotated[Day, Query(alias="to", description="last day, included")],
) -> CostReport:
    """Usage and cost by channel, branch, vendor, service and bearer; reversals listed as credits."""
    if last_day < first_day:
        raise Invalid("'to' is before 'from'")
    async with transactions.read() as uow:
        rows = await uow.redemptions.cost_rows(first_day=first_day, last_day=last_day)
        reversals = await uow.redemptions.reversals(first_day=first_day, last_day=last_day)
    withdrawn = [row for row in rows if row.withdrawn_grant]
    return CostReport.model_validate({
        "from": first_day.isoformat(),
        "to": last_day.isoformat(),
        "totals": {
            "redemptions": sum(row.redemptions for row in rows),
            "reversed": sum(row.reversed for row in rows),
            "cost": f"{sum((row.cost for row in rows), Decimal('0.00')):.2f}",
            "reversed_credit": f"{ZERO - sum((row.unit_cost for row in reversals), ZERO):.2f}",
            "withdrawn_grant": {
                "redemptions": sum(row.redemptions for row in withdrawn),
                "cost": f"{sum((row.cost for row in withdrawn), Decimal('0.00')):.2f}",
            },
        },
        "by_channel": totals_by(rows, "channel"),
        "by_branch": totals_by(rows, "branch"),
        "by_vendor": totals_by(rows, "vendor_id"),
        "by_service": totals_by(rows, "service_code"),
        "by_bearer": [
            {**entry, "bearer_kind": kind}
            for kind in ("hq", "channel", "branch")
            for entry in totals_by([row for row in rows if row.bearer_kind == kind], "bearer")
        ],
        "rows": [row_view(row) for row in rows],
        "reversals": [reversal_view(row) for row in reversals],
    })
