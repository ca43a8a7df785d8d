"""The representative's duties over HTTP (rules.md section 7): the call center reports service
requests, a representative reads their work list and records items done, operations and the
representative read a VIP's year against the duties' minimums.

Who a representative is: a `representative` token acts for the agent named in the path (the
platform keeps one token per service person in `VIP_API_TOKENS`; the token's user id is recorded
with every completion, so an audit can tell who recorded what). `ops` may do everything a
representative does.
"""

from datetime import date, datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Path, Query, Response, status
from pydantic import BaseModel, ConfigDict, Field, WithJsonSchema

from services.assignment.api.dependencies import Transactions
from services.assignment.domain.duties import Completion, DutyCount, ItemState, WorkItem, compliance
from services.assignment.repositories.work_items import View
from services.assignment.workflows import duties
from shared.api import PROBLEMS, CallCenter, CurrentRuleset, problems
from shared.auth import Principal, require_roles
from shared.bounds import Offset, PathId
from shared.refusals import NotFound
from shared.ruleset import ContactChannel, Duty

router = APIRouter(prefix="/v1", tags=["duties"], responses=PROBLEMS)

RepresentativeOrOps = Annotated[Principal, Depends(require_roles("representative", "ops"))]
Limit = Annotated[int, Query(ge=1, le=500)]
ItemId = Annotated[int, Path(ge=1, le=2**63 - 1)]
CALENDAR_PATTERN = r"^20\d{2}-\d{2}-\d{2}$"
"""Years 2000 to 2099 in the schema too (a JSON Schema bounds no date): a valid request is never refused."""
CalendarDate = Annotated[
    date, Query(ge=date(2000, 1, 1), le=date(2099, 12, 31)),
    WithJsonSchema({"type": "string", "format": "date", "pattern": CALENDAR_PATTERN}),
]
"""The dates the platform plans for: a week's end or a year's occasions stay within the calendar."""


class Item(BaseModel):
    item_id: int
    customer_id: str
    duty: Duty
    occasion: str
    opens_on: date
    due_on: date
    channels: list[ContactChannel]
    agent_id: str | None
    state: ItemState
    done_on: date | None
    done_channel: ContactChannel | None
    done_by_agent: str | None
    note: str | None
    on_time: bool

    @classmethod
    def of(cls, item: WorkItem) -> "Item":
        return cls(
            item_id=item.item_id, customer_id=item.customer_id, duty=item.duty, occasion=item.occasion,
            opens_on=item.opens_on, due_on=item.due_on, channels=sorted(item.channels), agent_id=item.agent_id,
            state=item.state, done_on=item.done_on, done_channel=item.done_channel,
            done_by_agent=item.done_by_agent, note=item.note, on_time=item.on_time,
        )


class ServiceRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    kind: Literal["claim", "servicing"]
    reference: str = Field(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.:-]*$")
    note: str | None = Field(default=None, max_length=2000)


class Done(BaseModel):
    model_config = ConfigDict(extra="forbid")

    done_on: date
    channel: ContactChannel
    note: str | None = Field(default=None, max_length=2000)


class WorkList(BaseModel):
    agent_id: str
    view: View
    as_of: date
    items: list[Item]
    limit: int
    offset: int


class DutyFigure(BaseModel):
    duty: Duty
    required: int = Field(description="the ruleset's minimum, or every item for duties without one")
    items: int
    done: int
    on_time: int = Field(description="done within the item's days: what counts")
    overdue: int
    meets: bool

    @classmethod
    def of(cls, count: DutyCount) -> "DutyFigure":
        return cls(
            duty=count.duty, required=count.required, items=count.items, done=count.done, on_time=count.on_time,
            overdue=count.overdue, meets=count.meets,
        )


class CustomerDuties(BaseModel):
    customer_id: str
    year: int
    compliant: bool
    duties: list[DutyFigure]
    items: list[Item]


def _today(ruleset: CurrentRuleset) -> date:
    return datetime.now(ruleset.zone).date()


@router.post(
    "/customers/{customer_id}/service-requests", status_code=status.HTTP_201_CREATED,
    responses={
        200: {"model": Item, "description": "the same kind and reference again: the item already made"},
        **problems(404, 409, s404="unknown customer", s409="the customer is not a VIP"),
    },
)
async def report_service_request(
    customer_id: PathId, body: ServiceRequest, response: Response, _: CallCenter, ruleset: CurrentRuleset,
    transactions: Transactions,
) -> Item:
    """A claim or servicing request reported by the call center: a one-to-one help item for the VIP's
    representative, due within the ruleset's days. The same `kind` and `reference` again answer the
    item already made (200). 404 unknown customer; 409 a customer who is not VIP."""
    async with transactions.begin() as uow:
        item, created = await duties.report_service_request(
            uow, customer_id=customer_id, kind=body.kind, reference=body.reference, note=body.note,
            reported_on=_today(ruleset),
        )
    if not created:
        response.status_code = status.HTTP_200_OK
    return Item.of(item)


@router.get("/representatives/{agent_id}/work-items", responses=problems(404))
async def work_list(
    agent_id: PathId, *, _: RepresentativeOrOps, ruleset: CurrentRuleset, transactions: Transactions,
    view: View = "this_week", as_of: CalendarDate | None = None, limit: Limit = 50, offset: Offset = 0,
) -> WorkList:
    """The representative's items still to be done, earliest due first: `this_week` (due from `as_of`,
    default today, to Sunday), `overdue` (due before `as_of`), or `pending` (all)."""
    day = as_of or _today(ruleset)
    async with transactions.read() as uow:
        items = await uow.work_items.work_list(agent_id, view=view, as_of=day, limit=limit, offset=offset)
    return WorkList(
        agent_id=agent_id, view=view, as_of=day, items=[Item.of(item) for item in items], limit=limit, offset=offset
    )


@router.post(
    "/work-items/{item_id}/completion",
    responses=problems(404, 409, s404="unknown item", s409="the item is already done or cancelled"),
)
async def record_done(
    item_id: ItemId, body: Done, principal: RepresentativeOrOps, ruleset: CurrentRuleset, transactions: Transactions
) -> Item:
    """Records the item done (date, channel, note) by its representative. 404 unknown item; 422 a channel
    the duty does not allow (the detail names the allowed ones), a date before the item opens or in the
    future; 409 an item already done or cancelled."""
    async with transactions.begin() as uow:
        done = await duties.record_done(
            uow, item_id=item_id, completion=Completion(done_on=body.done_on, channel=body.channel, note=body.note),
            today=_today(ruleset), by_user=principal.user_id,
        )
    return Item.of(done)


@router.get("/customers/{customer_id}/duties", responses=problems(404, s404="unknown customer"))
async def customer_duties(
    customer_id: PathId, _: RepresentativeOrOps, ruleset: CurrentRuleset, transactions: Transactions,
    year: Annotated[int | None, Query(ge=2000, le=2099)] = None,
) -> CustomerDuties:
    """A VIP's calendar year against the duties: each duty's items done on time against its minimum
    (cancelled items left out), and every item."""
    wanted = year or _today(ruleset).year
    async with transactions.read() as uow:
        customer = await uow.customers.get(customer_id)
        items = await uow.work_items.of_customer(customer_id, year=wanted)
    if customer is None and not items:
        raise NotFound(f"customer {customer_id} is not known here", reason="unknown_customer")
    counts = compliance(items, duties=ruleset.duties)
    return CustomerDuties(
        customer_id=customer_id, year=wanted, compliant=all(count.meets for count in counts),
        duties=[DutyFigure.of(count) for count in counts], items=[Item.of(item) for item in items],
    )
