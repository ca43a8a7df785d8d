"""Group clients as last scored, and the claims experience reported for them (rules.md section 9).

A client is changed only under its advisory lock ("scoring-group-client", `lock`, client-id order),
taken after the policies' and the customers' locks (`ScoringUnitOfWork`'s order), so a policy batch
and a CRM batch cannot deadlock. The revision is counted here, under the lock.

Experience rows are keyed by client and period, and kept whether the client is known or not: a
report for a client not yet known waits in `group_experience` and is part of the client's first
score (interpretation: kept, not dead-lettered, since the CRM and the claims system are not ordered
with each other). A later report for the same period replaces the earlier one.
"""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncConnection

from services.scoring.domain.group import GroupBook, ReportedExperience, newest_first
from services.scoring.tables import group_clients, group_experience
from shared.identity_map import IdentityMap
from shared.sql import any_of


@dataclass(frozen=True, slots=True)
class StoredGroupClient:
    client_id: str
    revision: int
    profile: dict[str, Any] | None
    """The `GroupClientProfile` JSON as the CRM last sent it."""
    annual_standard_premium: Decimal
    in_force_policies: int
    scored_as_of: date
    trigger: str
    ruleset_version: str


_COLUMNS = tuple(column.name for column in group_clients.columns if column.server_default is None)


def _stored_of(row: Mapping[str, Any]) -> StoredGroupClient:
    return StoredGroupClient(**{name: row[name] for name in _COLUMNS})


def _row_of(stored: StoredGroupClient) -> dict[str, Any]:
    return {name: getattr(stored, name) for name in _COLUMNS}


class GroupClientRepository:
    def __init__(self, connection: AsyncConnection) -> None:
        self._connection = connection
        self._map = IdentityMap[StoredGroupClient](
            connection,
            table=group_clients,
            key="client_id",
            lock_scope="scoring-group-client",
            value_of=_stored_of,
            row_of=_row_of,
        )
        self._experience: dict[str, dict[tuple[date, date], ReportedExperience]] = {}
        self._reported: dict[tuple[str, date, date], dict[str, Any]] = {}

    async def lock(self, client_ids: Iterable[str]) -> None:
        """Serialise changes per client until the transaction ends; loads the clients and their experience."""
        wanted = sorted(set(client_ids))
        await self._map.lock(wanted)
        await self._load_experience(wanted)

    async def get(self, client_id: str) -> StoredGroupClient | None:
        return await self._map.get(client_id)

    def save_score(
        self,
        client_id: str,
        *,
        previous: StoredGroupClient | None,
        profile: dict[str, Any] | None,
        book: GroupBook,
        as_of: date,
        trigger: str,
        ruleset_version: str,
    ) -> int:
        """Store the client's score (written at `flush`); returns its new revision."""
        revision = previous.revision + 1 if previous else 1
        self._map.save(
            client_id,
            StoredGroupClient(
                client_id=client_id,
                revision=revision,
                profile=profile,
                annual_standard_premium=book.annual_standard_premium,
                in_force_policies=book.in_force_policies,
                scored_as_of=as_of,
                trigger=trigger,
                ruleset_version=ruleset_version,
            ),
        )
        return revision

    def experience_of(self, client_id: str) -> tuple[ReportedExperience, ...]:
        """Every period reported for the client, newest first (the client must be locked)."""
        return newest_first(self._experience.get(client_id, {}).values())

    def report_experience(
        self, client_id: str, experience: ReportedExperience, *, event_id: str, reported_at: datetime
    ) -> None:
        """Keep a period's figures (replacing an earlier report of the same period); the client is locked."""
        period = (experience.period_start, experience.period_end)
        self._experience.setdefault(client_id, {})[period] = experience
        self._reported[(client_id, *period)] = {
            "client_id": client_id,
            "period_start": experience.period_start,
            "period_end": experience.period_end,
            "earned_premium": experience.earned_premium,
            "incurred_claims": experience.incurred_claims,
            "event_id": event_id,
            "reported_at": reported_at,
        }

    async def flush(self) -> None:
        await self._map.flush()
        if self._reported:
            rows, self._reported = list(self._reported.values()), {}
            statement = insert(group_experience)
            await self._connection.execute(
                statement.on_conflict_do_update(
                    index_elements=[group_experience.c.client_id, group_experience.c.period_start,
                                    group_experience.c.period_end],
                    set_={name: statement.excluded[name] for name in
                          ("earned_premium", "incurred_claims", "event_id", "reported_at")},
                ),
                rows,
            )

    async def _load_experience(self, client_ids: list[str]) -> None:
        wanted = [client_id for client_id in client_ids if client_id not in self._experience]
        if not wanted:
            return
        for client_id in wanted:
            self._experience[client_id] = {}
        rows = await self._connection.execute(
            select(group_experience).where(any_of(group_experience.c.client_id, "clients")), {"clients": wanted}
        )
        for row in rows:
            self._experience[row.client_id][(row.period_start, row.period_end)] = ReportedExperience(
                period_start=row.period_start,
                period_end=row.period_end,
                earned_premium=row.earned_premium,
                incurred_claims=row.incurred_claims,
            )
