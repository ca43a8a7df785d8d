"""Campaigns operations announce (rules.md section 7): company news, new products and the two service
festivals. Each gives one work item to every VIP of its scope (all, a serving channel, or the
customer's branch), in one statement (`repositories.duty_sets.insert_campaign_items`)."""

from datetime import date
from typing import Annotated, Literal

from fastapi import APIRouter, Query, status
from pydantic import BaseModel, ConfigDict, Field
from pydantic.config import JsonDict

from services.assignment.api.dependencies import Transactions
from services.assignment.workflows import duties
from services.assignment.workflows.duties import Announced
from shared.api import PROBLEMS, Ops
from shared.bounds import Offset
from shared.events.values import Channel
from shared.ruleset import Duty

router = APIRouter(prefix="/v1", tags=["duties"], responses=PROBLEMS)
FIRST_DAY, LAST_DAY = date(2000, 1, 1), date(2099, 12, 31)
"""The calendar the platform plans duties in (and the lunar calendar library covers)."""
IN_CALENDAR: JsonDict = {"pattern": r"^20\d{2}-\d{2}-\d{2}$"}
"""The calendar's years in the schema too: a JSON Schema bounds no date."""


class Scope(BaseModel):
    """Whom the campaign reaches: every VIP (both null), a serving channel's, or a CRM branch's."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"channel": None, "branch": "GD-SZ"}]})

    channel: Channel | None = None
    branch: str | None = Field(default=None, pattern=r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$")


class NewCampaign(BaseModel):
    model_config = ConfigDict(extra="forbid")

    duty: Literal["company_news", "new_product", "service_festival"]
    title: str = Field(min_length=1, max_length=200, description='e.g. "Spring service festival 2027"')
    starts_on: date = Field(
        ge=FIRST_DAY, le=LAST_DAY, description="the items open on this date", json_schema_extra=IN_CALENDAR
    )
    due_on: date | None = Field(
        default=None, ge=FIRST_DAY, le=LAST_DAY, description="default: starts_on plus the ruleset's days",
        json_schema_extra=IN_CALENDAR,
    )
    scope: Scope = Field(default_factory=Scope)


class Campaign(BaseModel):
    campaign_id: int
    duty: Duty
    title: str
    starts_on: date
    due_on: date
    scope: Scope
    items: int = Field(description="work items made: one per VIP in scope")

    @classmethod
    def of(cls, announced: Announced) -> "Campaign":
        return cls(
            campaign_id=announced.campaign_id, duty=announced.duty, title=announced.title,
            starts_on=announced.starts_on, due_on=announced.due_on,
            scope=Scope(channel=Channel(announced.channel) if announced.channel else None, branch=announced.branch),
            items=announced.items,
        )


class Campaigns(BaseModel):
    campaigns: list[Campaign]
    limit: int
    offset: int


@router.post("/campaigns", status_code=status.HTTP_201_CREATED)
async def announce_campaign(body: NewCampaign, principal: Ops, transactions: Transactions) -> Campaign:
    """One item for every VIP in scope; 422 naming the field for a malformed campaign (or a due date
    before the start)."""
    async with transactions.begin() as uow:
        announced = await duties.announce_campaign(
            uow, duty=Duty(body.duty), title=body.title, starts_on=body.starts_on, due_on=body.due_on,
            channel=body.scope.channel.value if body.scope.channel else None, branch=body.scope.branch,
            by_user=principal.user_id,
        )
    return Campaign.of(announced)


@router.get("/campaigns")
async def list_campaigns(
    _: Ops, transactions: Transactions, limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Offset = 0,
) -> Campaigns:
    """Campaigns, newest first, with the items each made."""
    async with transactions.read() as uow:
        rows = await duties.campaigns(uow, limit=limit, offset=offset)
    return Campaigns(campaigns=[Campaign.of(row) for row in rows], limit=limit, offset=offset)
