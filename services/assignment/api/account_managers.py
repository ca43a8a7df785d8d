"""Group clients' account service managers for operations (rules.md section 9, 服务组织)."""

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel

from services.assignment.api.dependencies import Transactions
from services.assignment.domain.account_managers import GroupClient
from shared.api import PROBLEMS, problems
from shared.auth import Principal, require_roles
from shared.bounds import Offset, PathId
from shared.refusals import NotFound

router = APIRouter(prefix="/v1", tags=["group program"], responses=PROBLEMS)

OpsOrGroupService = Annotated[Principal, Depends(require_roles("ops", "group_service"))]


class Manager(BaseModel):
    agent_id: str
    name: str
    branch: str


class ClientManager(BaseModel):
    """A group client's level and account manager (None: a regular client, or nobody available since
    `unassigned_since`), with the reason of the last change."""

    client_id: str
    level: str | None
    branch: str | None
    account_manager: Manager | None
    since: date | None
    unassigned_since: date | None
    reason: str

    @classmethod
    def of(cls, client: GroupClient) -> "ClientManager":
        manager = client.manager
        return cls(
            client_id=client.client_id, level=client.level, branch=client.branch,
            account_manager=Manager(agent_id=manager.agent_id, name=manager.name, branch=manager.branch)
            if manager else None,
            since=client.since, unassigned_since=client.unassigned_since, reason=client.reason,
        )


class ClientManagers(BaseModel):
    clients: list[ClientManager]
    limit: int
    offset: int


@router.get("/group-clients/account-managers")
async def account_managers(
    _: OpsOrGroupService,
    transactions: Transactions,
    unassigned: bool = False,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Offset = 0,
) -> ClientManagers:
    """Group clients by id with their account manager; `unassigned=true`: VIP clients nobody serves."""
    async with transactions.read() as uow:
        page = await uow.group_clients.page(limit=limit, offset=offset, unassigned_only=unassigned)
    return ClientManagers(clients=[ClientManager.of(client) for client in page], limit=limit, offset=offset)


@router.get("/group-clients/{client_id}/account-manager", responses=problems(404))
async def account_manager(client_id: PathId, _: OpsOrGroupService, transactions: Transactions) -> ClientManager:
    async with transactions.read() as uow:
        client = await uow.group_clients.get(client_id)
    if client is None:
        raise NotFound(f"no group client {client_id} has had a level decided here", reason="unknown_group_client")
    return ClientManager.of(client)
