"""Assignment's HTTP API for operations: representatives' loads and customers, VIPs without a
representative, and each customer's representative history."""

from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Query, Request, status

from services.assignment.agents import StoredAgent
from services.assignment.repository import AssignmentUnitOfWork, Customer
from shared.auth import Principal, require_roles
from shared.db import Transactions
from shared.events.values import Channel

router = APIRouter(prefix="/v1", tags=["assignment"])

Ops = Annotated[Principal, Depends(require_roles("ops"))]
CallCenterOrOps = Annotated[Principal, Depends(require_roles("call_center", "ops"))]
Limit = Annotated[int, Query(ge=1, le=1000)]
Offset = Annotated[int, Query(ge=0)]


def transactions_of(request: Request) -> Transactions[AssignmentUnitOfWork]:
    transactions: Transactions[AssignmentUnitOfWork] = request.app.state.runtime.transactions
    return transactions


Database = Annotated[Transactions[AssignmentUnitOfWork], Depends(transactions_of)]


def _person(stored: StoredAgent) -> dict[str, Any]:
    agent = stored.agent
    assert agent is not None
    return {
        "agent_id": agent.agent_id,
        "name": agent.name,
        "channel": agent.channel,
        "branch": agent.branch,
        "role": agent.role,
        "top_performer": agent.top_performer,
        "eligible": agent.eligible,
        "status": "disqualified" if agent.disqualified else "departed" if agent.departed else "active",
        "departed_on": stored.departed_on,
        "disqualification_reason": stored.disqualification_reason,
        "load": stored.load,
    }


def _assignment(customer: Customer) -> dict[str, Any]:
    representative = customer.representative
    return {
        "customer_id": customer.customer_id,
        "tier": customer.tier,
        "serving_channel": customer.serving_channel,
        "agent_id": representative.agent_id if representative else None,
        "basis": representative.basis if representative else None,
        "since": customer.since,
        "unassigned_since": customer.unassigned_since,
        "reason": customer.reason,
    }


@router.get("/representatives")
async def representatives_by_load(
    _: Ops,
    database: Database,
    channel: Channel | None = None,
    limit: Limit = 100,
    offset: Offset = 0,
) -> dict[str, Any]:
    """Service persons, most loaded first; `load` is the number of VIP customers they represent now."""
    async with database.read() as uow:
        people = await uow.agents.by_load(channel=channel, limit=limit, offset=offset)
    return {"representatives": [_person(stored) for stored in people], "limit": limit, "offset": offset}


@router.get("/representatives/{agent_id}/customers")
async def representative_customers(agent_id: str, _: Ops, database: Database) -> dict[str, Any]:
    """A representative's VIP customers now, with why each was assigned to them, and their load."""
    async with database.read() as uow:
        stored = await uow.agents.get(agent_id)
        represented = await uow.customers.of_representative(agent_id)
    if stored is None or stored.agent is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=f"no service person {agent_id} is known")
    return {**_person(stored), "customers": [_assignment(customer) for customer in represented]}


@router.get("/customers/unassigned")
async def customers_without_representative(
    _: Ops,
    database: Database,
    channel: Channel | None = None,
    limit: Limit = 100,
    offset: Offset = 0,
) -> dict[str, Any]:
    """VIPs nobody could be found for, longest waiting first; each is filled as soon as someone in
    their serving channel's pool or on their policies becomes available."""
    async with database.read() as uow:
        waiting = await uow.customers.unassigned(channel=channel, limit=limit, offset=offset)
    return {"customers": [_assignment(customer) for customer in waiting], "limit": limit, "offset": offset}


@router.get("/customers/{customer_id}/representative")
async def customer_representative(customer_id: str, _: CallCenterOrOps, database: Database) -> dict[str, Any]:
    async with database.read() as uow:
        customer = await uow.customers.get(customer_id)
        stored = (
            await uow.agents.get(customer.representative.agent_id)
            if customer is not None and customer.representative is not None
            else None
        )
    if customer is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=f"customer {customer_id} is not known here")
    agent = stored.agent if stored else None
    return {
        **_assignment(customer),
        "representative": (
            {"agent_id": agent.agent_id, "name": agent.name, "channel": agent.channel} if agent else None
        ),
        "revision": customer.revision,
    }


@router.get("/customers/{customer_id}/representative-history")
async def representative_history(customer_id: str, _: Ops, database: Database) -> dict[str, Any]:
    """Every assignment and change, newest first, with its reason and the event that caused it."""
    async with database.read() as uow:
        customer = await uow.customers.get(customer_id)
        entries = await uow.history.of_customer(customer_id)
    if customer is None and not entries:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=f"customer {customer_id} is not known here")
    return {
        "customer_id": customer_id,
        "history": [
            {
                "revision": entry.revision,
                "agent_id": entry.agent_id,
                "agent_name": entry.agent_name,
                "agent_channel": entry.agent_channel,
                "basis": entry.basis,
                "reason": entry.reason,
                "effective_at": entry.effective_at,
                "decided_at": entry.decided_at,
                "cause_event_id": entry.cause_event_id,
                "cause_event_type": entry.cause_event_type,
                "recorded_at": recorded_at,
            }
            for entry, recorded_at in entries
        ],
    }
