"""VIP customers' representatives: the current one and why, the history of every change, and the
VIPs nobody could be found for yet."""

from datetime import date, datetime
from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BaseModel, PlainSerializer

from services.assignment.api.dependencies import Transactions
from services.assignment.domain.assignment import Basis
from services.assignment.domain.records import Customer
from shared.api import PROBLEMS, CallCenterOrOps, Ops, problems
from shared.bounds import Offset, PathId
from shared.events.values import Channel, Tier
from shared.refusals import NotFound

router = APIRouter(prefix="/v1", tags=["assignment"], responses=PROBLEMS)

Limit = Annotated[int, Query(ge=1, le=1000)]
Moment = Annotated[datetime, PlainSerializer(lambda moment: moment.isoformat(), return_type=str)]
"""`datetime.isoformat()` (`+00:00`, not pydantic's `Z`), as these bodies always had."""


class Assignment(BaseModel):
    """A customer's representative now (by id, with the branch of the rule that chose them), or
    since when and why a VIP has none."""

    customer_id: str
    tier: Tier | None
    serving_channel: Channel | None
    agent_id: str | None
    basis: Basis | None
    since: date | None
    unassigned_since: date | None
    reason: str

    @classmethod
    def of(cls, customer: Customer) -> "Assignment":
        representative = customer.representative
        return cls(
            customer_id=customer.customer_id,
            tier=customer.tier,
            serving_channel=customer.serving_channel,
            agent_id=representative.agent_id if representative else None,
            basis=representative.basis if representative else None,
            since=customer.since,
            unassigned_since=customer.unassigned_since,
            reason=customer.reason,
        )


class Unassigned(BaseModel):
    customers: list[Assignment]
    limit: int
    offset: int


class RepresentativeView(BaseModel):
    agent_id: str
    name: str
    channel: Channel


class CurrentRepresentative(Assignment):
    representative: RepresentativeView | None
    revision: int


class HistoryItem(BaseModel):
    revision: int | None
    agent_id: str | None
    agent_name: str | None
    agent_channel: str | None
    basis: str | None
    reason: str
    effective_at: date
    decided_at: Moment
    cause_event_id: str
    cause_event_type: str
    recorded_at: Moment


class History(BaseModel):
    customer_id: str
    history: list[HistoryItem]


@router.get("/customers/unassigned")
async def customers_without_representative(
    _: Ops,
    transactions: Transactions,
    channel: Channel | None = None,
    limit: Limit = 100,
    offset: Offset = 0,
) -> Unassigned:
    """VIPs nobody could be found for, longest waiting first; each is filled as soon as someone in
    their serving channel's pool or on their policies becomes available."""
    async with transactions.read() as uow:
        waiting = await uow.customers.unassigned(channel=channel, limit=limit, offset=offset)
    return Unassigned(customers=[Assignment.of(customer) for customer in waiting], limit=limit, offset=offset)


@router.get("/customers/{customer_id}/representative", responses=problems(404))
async def customer_representative(
    customer_id: PathId, _: CallCenterOrOps, transactions: Transactions
) -> CurrentRepresentative:
    async with transactions.read() as uow:
        customer = await uow.customers.get(customer_id)
        stored = (
            await uow.agents.get(customer.representative.agent_id)
            if customer is not None and customer.representative is not None
            else None
        )
    if customer is None:
        raise NotFound(f"customer {customer_id} is not known here", reason="unknown_customer")
    agent = stored.agent if stored else None
    return CurrentRepresentative(
        **Assignment.of(customer).model_dump(),
        representative=(
            RepresentativeView(agent_id=agent.agent_id, name=agent.name, channel=agent.channel) if agent else None
        ),
        revision=customer.revision,
    )


@router.get("/customers/{customer_id}/representative-history", responses=problems(404))
async def representative_history(customer_id: PathId, _: Ops, transactions: Transactions) -> History:
    """Every assignment and change, newest first, with its reason and the event that caused it."""
    async with transactions.read() as uow:
        customer = await uow.customers.get(customer_id)
        entries = await uow.history.of_customer(customer_id)
    if customer is None and not entries:
        raise NotFound(f"customer {customer_id} is not known here", reason="unknown_customer")
    return History(
        customer_id=customer_id,
        history=[
            HistoryItem(
                revision=entry.revision,
                agent_id=entry.agent_id,
                agent_name=entry.agent_name,
                agent_channel=entry.agent_channel,
                basis=entry.basis,
                reason=entry.reason,
                effective_at=entry.effective_at,
                decided_at=entry.decided_at,
                cause_event_id=entry.cause_event_id,
                cause_event_type=entry.cause_event_type,
                recorded_at=recorded_at,
            )
            for entry, recorded_at in entries
        ],
    )
