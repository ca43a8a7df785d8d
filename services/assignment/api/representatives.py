"""Service persons for operations: who carries how many VIPs, and whom each represents."""

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BaseModel

from services.assignment.api.customers import Assignment
from services.assignment.api.dependencies import Transactions
from services.assignment.domain.records import StoredAgent
from shared.api import PROBLEMS, Ops, problems
from shared.bounds import Offset, PathId
from shared.events.values import AgentRole, Channel
from shared.refusals import NotFound

router = APIRouter(prefix="/v1", tags=["assignment"], responses=PROBLEMS)

Limit = Annotated[int, Query(ge=1, le=1000)]


class Person(BaseModel):
    """A service person with what happened to them (`status`) and `load`, the VIPs they represent now."""

    agent_id: str
    name: str
    channel: Channel
    branch: str
    role: AgentRole
    top_performer: bool
    eligible: bool
    status: str
    departed_on: date | None
    departs_on: date | None = None
    """A departure announced ahead: the person stays active until that date's daily run."""
    disqualification_reason: str | None
    load: int

    @classmethod
    def of(cls, stored: StoredAgent) -> "Person":
        agent = stored.agent
        assert agent is not None, "only persons with a profile are shown"
        return cls(
            agent_id=agent.agent_id,
            name=agent.name,
            channel=agent.channel,
            branch=agent.branch,
            role=agent.role,
            top_performer=agent.top_performer,
            eligible=agent.eligible,
            status="disqualified" if agent.disqualified else "departed" if agent.departed else "active",
            departed_on=stored.departed_on,
            departs_on=stored.departs_on,
            disqualification_reason=stored.disqualification_reason,
            load=stored.load,
        )


class Representatives(BaseModel):
    representatives: list[Person]
    limit: int
    offset: int


class RepresentativeCustomers(Person):
    customers: list[Assignment]


@router.get("/representatives")
async def representatives_by_load(
    _: Ops,
    transactions: Transactions,
    channel: Channel | None = None,
    limit: Limit = 100,
    offset: Offset = 0,
) -> Representatives:
    """Service persons, most loaded first; `load` is the number of VIP customers they represent now."""
    async with transactions.read() as uow:
        people = await uow.agents.by_load(channel=channel, limit=limit, offset=offset)
    return Representatives(representatives=[Person.of(stored) for stored in people], limit=limit, offset=offset)


@router.get("/representatives/{agent_id}/customers", responses=problems(404))
async def representative_customers(agent_id: PathId, _: Ops, transactions: Transactions) -> RepresentativeCustomers:
    """A representative's VIP customers now, with why each was assigned to them, and their load."""
    async with transactions.read() as uow:
        stored = await uow.agents.get(agent_id)
        represented = await uow.customers.of_representative(agent_id)
    if stored is None or stored.agent is None:
        raise NotFound(f"no service person {agent_id} is known", reason="unknown_service_person")
    return RepresentativeCustomers(
        **Person.of(stored).model_dump(), customers=[Assignment.of(customer) for customer in represented]
    )
