"""Group clients' evaluation state (one row each) and the history of their evaluations.

A client is changed only under its advisory lock ("tiering-group-client", `lock`, client-id order):
the handlers of `GroupClientScored` and `GroupFeedbackReported`, an on-demand evaluation, a
designation's approval and the quarter-end evaluation all take it first, then read the client.
Evaluations are append-only rows: buffered, written in one statement at `flush`.

The quarter-end evaluation changes only what was decided (the evaluation's columns, the level, the
reason, the revision) of thousands of clients per transaction: such a save is written by one
`UPDATE ... FROM unnest(...)` of those columns at `flush`, not by the upsert of whole rows (with their
experience as JSON) that any other change takes; what a later read in the transaction sees is the same.
"""

import json
from collections.abc import Iterable, Mapping
from dataclasses import fields
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import or_, select, text
from sqlalchemy.ext.asyncio import AsyncConnection

from services.tiering.domain.group import Evaluation, ExperiencePeriod, Inputs
from services.tiering.domain.group_state import GroupClientState
from services.tiering.repositories.group_quarter_end import EVALUATE_CHUNK, chunk_parameters
from services.tiering.tables import group_clients, group_evaluations
from shared.group_ruleset import GroupRuleset
from shared.identity_map import IdentityMap
from shared.locks import lock_keys

LOCK_SCOPE = "tiering-group-client"

_INPUT_NAMES = tuple(f.name for f in fields(Inputs))
_COLUMNS = tuple(column.name for column in group_clients.columns if column.server_default is None)
if tuple(f.name for f in fields(GroupClientState)) != _COLUMNS:
    raise AssertionError("GroupClientState must name the columns of `group_clients`, in their order")


_DECIDED = (
    "evaluated_level", "score", "scale", "loyalty", "profit", "evaluated_on", "approved_level", "approved_expires_on",
    "approved_application", "level", "reason", "revision",
)
_KEPT = tuple(f.name for f in fields(GroupClientState) if f.name not in _DECIDED)
_DECIDED_TYPES = (
    "varchar", "numeric", "numeric", "numeric", "numeric", "date", "varchar", "date", "varchar", "varchar", "text",
    "integer",
)
_UPDATE_DECIDED = text(
    "UPDATE group_clients AS c SET "
    + ", ".join(f"{name} = u.{name}" for name in _DECIDED)
    + ", updated_at = now() FROM unnest(CAST(:client_id AS varchar[]), "
    + ", ".join(f"CAST(:{name} AS {kind}[])" for name, kind in zip(_DECIDED, _DECIDED_TYPES, strict=True))
    + f") AS u(client_id, {', '.join(_DECIDED)}) WHERE c.client_id = u.client_id"
)
_EVALUATION_COLUMNS = (
    "client_id", "evaluated_on", "trigger", "level", "score", "scale", "loyalty", "profit", "inputs",
    "ruleset_version", "reason",
)
_EVALUATION_TYPES = (
    "varchar", "date", "varchar", "varchar", "numeric", "numeric", "numeric", "numeric", "text", "varchar", "text",
)
_INSERT_EVALUATIONS = text(
    f"INSERT INTO group_evaluations ({', '.join(_EVALUATION_COLUMNS)}) SELECT "
    + ", ".join("inputs::jsonb" if name == "inputs" else name for name in _EVALUATION_COLUMNS)
    + " FROM unnest("
    + ", ".join(f"CAST(:{name} AS {kind}[])" for name, kind in zip(_EVALUATION_COLUMNS, _EVALUATION_TYPES, strict=True))
    + f") WITH ORDINALITY AS u({', '.join(_EVALUATION_COLUMNS)}, position) ORDER BY position"
)


def _only_decided_changed(before: GroupClientState, after: GroupClientState) -> bool:
    return all(getattr(before, name) == getattr(after, name) for name in _KEPT)


def _period_of(document: Mapping[str, Any]) -> ExperiencePeriod:
    return ExperiencePeriod(
        period_start=date.fromisoformat(document["period_start"]),
        period_end=date.fromisoformat(document["period_end"]),
        earned_premium=Decimal(document["earned_premium"]),
        incurred_claims=Decimal(document["incurred_claims"]),
    )


def _stored_of(row: Mapping[str, Any]) -> GroupClientState:
    values = {name: row[name] for name in _COLUMNS}
    return GroupClientState(**values | {"experience": tuple(_period_of(period) for period in row["experience"])})


def _row_of(stored: GroupClientState) -> dict[str, Any]:
    row = {name: getattr(stored, name) for name in _COLUMNS}
    experience = [
        {"period_start": p.period_start.isoformat(), "period_end": p.period_end.isoformat(),
         "earned_premium": str(p.earned_premium), "incurred_claims": str(p.incurred_claims)}
        for p in stored.experience
    ]
    return row | {"experience": experience}


def inputs_document(evaluation: Evaluation) -> dict[str, Any]:
    """An evaluation's inputs as stored and served: decimals as strings."""
    inputs = evaluation.inputs
    return {name: _plain(getattr(inputs, name)) for name in _INPUT_NAMES}


def _plain(value: Any) -> Any:
    return str(value) if isinstance(value, Decimal | date) else value


class GroupClientRepository:
    def __init__(self, connection: AsyncConnection) -> None:
        self._connection = connection
        self._map = IdentityMap[GroupClientState](
            connection,
            table=group_clients,
            key="client_id",
            lock_scope=LOCK_SCOPE,
            value_of=_stored_of,
            row_of=_row_of,
        )
        self._evaluations: list[dict[str, Any]] = []
        self._decided: dict[str, GroupClientState] = {}
        """Clients whose save changed only what was decided: written by `_UPDATE_DECIDED`."""

    async def lock(self, client_ids: Iterable[str]) -> None:
        await self._map.lock(client_ids)

    async def get(self, client_id: str) -> GroupClientState:
        """The client as stored; one never seen starts empty (not `known`)."""
        return await self.find(client_id) or GroupClientState(client_id=client_id)

    async def find(self, client_id: str) -> GroupClientState | None:
        """For reads: the client, or None if never seen."""
        return self._decided.get(client_id) or await self._map.get(client_id)

    def loaded(self, client_id: str) -> GroupClientState:
        """The client as last saved or loaded in this transaction (lock it first)."""
        return self._decided.get(client_id) or self._map.loaded(client_id) or GroupClientState(client_id=client_id)

    def save(self, client: GroupClientState) -> None:
        """The caller holds the client's lock."""
        if not self._map.is_locked(client.client_id):
            raise RuntimeError(f"saving group client {client.client_id} without holding its lock")
        stored = self._map.loaded(client.client_id)
        if client.client_id not in self._decided and stored is not None and _only_decided_changed(stored, client):
            self._decided[client.client_id] = client
            return
        self._decided.pop(client.client_id, None)
        self._map.save(client.client_id, client)

    def record_evaluation(self, evaluation: Evaluation, *, trigger: str) -> None:
        self._evaluations.append(
            {
                "client_id": evaluation.client_id,
                "evaluated_on": evaluation.as_of,
                "trigger": trigger,
                "level": evaluation.level,
                "score": evaluation.score,
                "scale": evaluation.scale,
                "loyalty": evaluation.loyalty,
                "profit": evaluation.profit,
                "inputs": inputs_document(evaluation),
                "ruleset_version": evaluation.ruleset_version,
                "reason": evaluation.reason,
            }
        )

    async def flush(self) -> None:
        await self._map.flush()
        if self._decided:
            decided, self._decided = list(self._decided.values()), {}
            columns = {"client_id": [client.client_id for client in decided]}
            columns |= {name: [getattr(client, name) for client in decided] for name in _DECIDED}
            await self._connection.execute(_UPDATE_DECIDED, columns)
        if self._evaluations:
            rows, self._evaluations = self._evaluations, []
            values = {name: [row[name] for row in rows] for name in _EVALUATION_COLUMNS}
            values["inputs"] = [json.dumps(inputs) for inputs in values["inputs"]]
            await self._connection.execute(_INSERT_EVALUATIONS, values)

    async def due_for_evaluation(self, *, as_of: date, after: str, limit: int) -> list[str]:
        """Known clients not evaluated on or after `as_of`, in client-id order after `after` (not locked)."""
        rows = await self._connection.execute(
            select(group_clients.c.client_id)
            .where(
                group_clients.c.scored_revision > 0,
                or_(group_clients.c.evaluated_on.is_(None), group_clients.c.evaluated_on < as_of),
                group_clients.c.client_id > after,
            )
            .order_by(group_clients.c.client_id)
            .limit(limit)
        )
        return list(rows.scalars())

    async def evaluate_in_bulk(
        self, client_ids: list[str], *, as_of: date, trigger: str, ruleset: GroupRuleset
    ) -> list[GroupClientState]:
        """Evaluate the clients on `as_of` in one statement (`group_quarter_end.EVALUATE_CHUNK`): lock
        them, store every due one's evaluation and decided columns, and return those whose published
        view changed, with their new revision (their old one is the revision minus one). A client
        evaluated on or after `as_of` since it was found, or not known, is left alone.

        The rows are changed behind the identity map: the chunk's unit of work reads no client through
        it, before or after (the quarter-end step is its only work)."""
        if not client_ids:
            return []
        await lock_keys(self._connection, scope=LOCK_SCOPE, keys=client_ids)
        rows = await self._connection.execute(
            EVALUATE_CHUNK, chunk_parameters(client_ids=client_ids, as_of=as_of, trigger=trigger, ruleset=ruleset)
        )
        return [
            GroupClientState(
                client_id=row.client_id, branch=row.branch, level=row.level, evaluated_level=row.evaluated_level,
                approved_level=row.approved_level, score=row.score, scale=row.scale, loyalty=row.loyalty,
                profit=row.profit, evaluated_on=as_of, reason=row.reason, revision=row.revision,
            )
            for row in rows
        ]

    async def evaluations_of(self, client_id: str, *, limit: int = 20) -> list[dict[str, Any]]:
        rows = await self._connection.execute(
            select(group_evaluations)
            .where(group_evaluations.c.client_id == client_id)
            .order_by(group_evaluations.c.id.desc())
            .limit(limit)
        )
        return [dict(row._mapping) for row in rows]
