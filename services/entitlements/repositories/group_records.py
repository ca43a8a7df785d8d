"""The group program's service records (附件三-六): written one per HTTP command (under the client's
lock), read per client (the list, the yearly counts, the feedback) and per period (the reports)."""

from collections.abc import Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import extract, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from services.entitlements.domain.group_records import NewRecord
from services.entitlements.tables import group_records


class GroupRecordRepository:
    def __init__(self, connection: AsyncConnection) -> None:
        self._connection = connection

    async def add(self, record: NewRecord, *, level: str | None, branch: str | None, manager_id: str | None) -> int:
        values = {
            "client_id": record.client_id, "kind": record.kind, "service_code": record.service_code,
            "occurred_on": record.occurred_on, "level": level, "branch": branch, "manager_id": manager_id,
            "cost": record.cost, "received_at": record.received_at, "resolved_at": record.resolved_at,
            "verified": record.verified, "average": record.average, "details": dict(record.details),
            "recorded_by": record.recorded_by,
        }
        statement = insert(group_records).values(values).returning(group_records.c.record_id)
        return int((await self._connection.execute(statement)).scalar_one())

    async def used_in_year(self, client_id: str, year: int) -> dict[str, int]:
        """Records per service code dated in `year`."""
        statement = (
            select(group_records.c.service_code, func.count())
            .where(group_records.c.client_id == client_id, extract("year", group_records.c.occurred_on) == year)
            .group_by(group_records.c.service_code)
        )
        return {code: count for code, count in (await self._connection.execute(statement)).all()}

    async def get(self, client_id: str, record_id: int) -> dict[str, Any] | None:
        statement = select(group_records).where(
            group_records.c.client_id == client_id, group_records.c.record_id == record_id
        )
        row = (await self._connection.execute(statement)).first()
        return dict(row._mapping) if row else None

    async def resolve(
        self, record_id: int, *, resolved_at: datetime, verified: bool, details: dict[str, Any]
    ) -> None:
        statement = (
            update(group_records).where(group_records.c.record_id == record_id)
            .values(resolved_at=resolved_at, verified=verified, details=details)
        )
        await self._connection.execute(statement)

    async def page(self, client_id: str, *, kind: str | None, limit: int, offset: int) -> list[dict[str, Any]]:
        """Newest first."""
        statement = select(group_records).where(group_records.c.client_id == client_id)
        if kind is not None:
            statement = statement.where(group_records.c.kind == kind)
        statement = statement.order_by(group_records.c.occurred_on.desc(), group_records.c.record_id.desc())
        rows = (await self._connection.execute(statement.limit(limit).offset(offset))).all()
        return [dict(row._mapping) for row in rows]

    async def feedback_rows(self, client_id: str) -> tuple[list[tuple[date, bool]], list[tuple[date, Decimal]]]:
        """(received on, verified) of every complaint; (date, average) of every survey."""
        statement = select(
            group_records.c.kind, group_records.c.occurred_on, group_records.c.verified, group_records.c.average
        ).where(group_records.c.client_id == client_id, group_records.c.kind.in_(["complaint", "survey"]))
        complaints, surveys = [], []
        for kind, on, verified, average in (await self._connection.execute(statement)).all():
            if kind == "complaint":
                complaints.append((on, bool(verified)))
            elif average is not None:
                surveys.append((on, average))
        return complaints, surveys

    async def between(
        self, start: date, end: date, *, client_ids: Sequence[str] | None = None
    ) -> list[dict[str, Any]]:
        """Every record dated in [start, end], optionally of some clients only."""
        statement = select(group_records).where(group_records.c.occurred_on.between(start, end))
        if client_ids is not None:
            statement = statement.where(group_records.c.client_id.in_(list(client_ids)))
        rows = (await self._connection.execute(statement.order_by(group_records.c.record_id))).all()
        return [dict(row._mapping) for row in rows]

    async def open_complaints(self) -> list[tuple[str, datetime]]:
        """(client, received at) of every unresolved complaint."""
        statement = select(group_records.c.client_id, group_records.c.received_at).where(
            group_records.c.kind == "complaint", group_records.c.resolved_at.is_(None)
        )
        rows = (await self._connection.execute(statement)).all()
        return [(client_id, received_at) for client_id, received_at in rows]
