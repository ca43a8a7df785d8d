"""Group clients on the shared identity map (advisory lock scope `entitlements-group-client`), their
level history (one row per change of level, for movements and retention), and the program-wide reads.

Every record, every level decision and every change of manager takes the client's lock first, so
the yearly count read under it is exact: two simultaneous records never take the same last unit.
"""

from collections.abc import Iterable, Mapping
from datetime import date
from typing import Any

from sqlalchemy import and_, func, insert, select
from sqlalchemy.ext.asyncio import AsyncConnection

from services.entitlements.domain.group_clients import GroupClient, Manager
from services.entitlements.tables import group_clients, group_level_history
from shared.identity_map import IdentityMap


def client_of(row: Mapping[Any, Any]) -> GroupClient:
    manager = None
    if row["manager_id"] is not None:
        manager = Manager(agent_id=row["manager_id"], name=row["manager_name"], branch=row["manager_branch"])
    return GroupClient(
        client_id=row["client_id"], level_revision=row["level_revision"], level=row["level"],
        evaluated_level=row["evaluated_level"], approved_level=row["approved_level"], score=row["score"],
        scale=row["scale"], loyalty=row["loyalty"], profit=row["profit"], evaluated_on=row["evaluated_on"],
        level_effective_at=row["level_effective_at"], branch=row["branch"], manager_revision=row["manager_revision"],
        manager=manager, feedback_revision=row["feedback_revision"],
    )


def row_of_client(client: GroupClient) -> dict[str, Any]:
    manager = client.manager
    return {
        "client_id": client.client_id, "level_revision": client.level_revision, "level": client.level,
        "evaluated_level": client.evaluated_level, "approved_level": client.approved_level, "score": client.score,
        "scale": client.scale, "loyalty": client.loyalty, "profit": client.profit,
        "evaluated_on": client.evaluated_on, "level_effective_at": client.level_effective_at, "branch": client.branch,
        "manager_revision": client.manager_revision, "manager_id": manager.agent_id if manager else None,
        "manager_name": manager.name if manager else None, "manager_branch": manager.branch if manager else None,
        "feedback_revision": client.feedback_revision,
    }


class GroupClientRepository:
    def __init__(self, connection: AsyncConnection) -> None:
        self._connection = connection
        self._map = IdentityMap[GroupClient](
            connection, table=group_clients, key="client_id", lock_scope="entitlements-group-client",
            value_of=client_of, row_of=row_of_client,
        )
        self._moves: list[dict[str, Any]] = []

    async def lock(self, client_ids: Iterable[str]) -> None:
        await self._map.lock(client_ids)

    async def get(self, client_id: str) -> GroupClient | None:
        return await self._map.get(client_id)

    def save_client(self, client: GroupClient) -> None:
        self._map.save(client.client_id, client)

    def save_move(
        self, *, client_id: str, level: str | None, previous: str | None, branch: str | None, on: date
    ) -> None:
        self._moves.append(
            {"client_id": client_id, "level": level, "previous_level": previous, "branch": branch, "effective_at": on}
        )

    async def flush(self) -> None:
        await self._map.flush()
        if self._moves:
            await self._connection.execute(insert(group_level_history), self._moves)
            self._moves = []

    async def per_level(self) -> dict[str | None, int]:
        """Clients per effective level (None: regular clients)."""
        statement = select(group_clients.c.level, func.count()).group_by(group_clients.c.level)
        return {level: count for level, count in (await self._connection.execute(statement)).all()}

    async def all_clients(self) -> list[GroupClient]:
        """Every client, for the program-wide reports (the client count is the seed's thousands, not millions)."""
        statement = select(group_clients).order_by(group_clients.c.client_id)
        return [client_of(row._mapping) for row in (await self._connection.execute(statement)).all()]

    async def levels_on(self, day: date) -> dict[str, str | None]:
        """Each client's level in force on `day` (the last change effective on or before it)."""
        latest = (
            select(group_level_history.c.client_id, func.max(group_level_history.c.id).label("id"))
            .where(group_level_history.c.effective_at <= day).group_by(group_level_history.c.client_id).subquery()
        )
        statement = select(group_level_history.c.client_id, group_level_history.c.level).join(
            latest, and_(latest.c.id == group_level_history.c.id)
        )
        return {client_id: level for client_id, level in (await self._connection.execute(statement)).all()}

    async def moves_between(self, start: date, end: date) -> list[tuple[date, str | None, str | None]]:
        """(effective date, previous level, level) of every change of level in [start, end]."""
        history = group_level_history.c
        statement = (
            select(history.effective_at, history.previous_level, history.level)
            .where(group_level_history.c.effective_at.between(start, end))
            .order_by(group_level_history.c.id)
        )
        return [(on, previous, level) for on, previous, level in (await self._connection.execute(statement)).all()]
