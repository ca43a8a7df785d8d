"""Policies as last applied, the policies each customer holds, and the stale events ignored.

A policy is changed only under its advisory lock ("scoring-policy", `lock`), taken for the whole
batch in `ScoringUnitOfWork.prepare`; a policy never seen is locked the same way, so two first events
of one policy cannot both pass as new. The policies a customer holds are read under the customer's
lock (`load_held_by`, one statement for the batch's holders) and kept current by `save_policy`, so a
policy moved by a policyholder change leaves the old holder and joins the new one at once.

Each row also keeps the policy's version in force on the day before cutover (`before_cutover`, with
the holder it names in an indexed column): the same statement loads the policies a customer held
then, for the legacy figure (`domain.cutover`), whatever they hold now.

Stale events and applied reconciliations are append-only rows (no key to lock, nothing to update):
they are buffered and written in one `INSERT ... ON CONFLICT DO NOTHING` at `flush`, outside the
identity map.
"""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncConnection

from services.scoring.domain.policies import Policy, PolicyChange
from services.scoring.mapping import policy_document, policy_from_document
from services.scoring.tables import policies, reconciliations, stale_policy_events
from shared.identity_map import IdentityMap
from shared.sql import any_of


@dataclass(frozen=True, slots=True)
class StoredPolicy:
    """One row of `policies`: the policy, the type of the event that last changed it, and its version
    in force on the day before cutover (None when no event dated before cutover arrived)."""

    policy: Policy
    last_event_type: str
    before_cutover: Policy | None


@dataclass(frozen=True, slots=True)
class StaleSummary:
    count: int
    last_version: int


def _stored_of(row: Mapping[str, Any]) -> StoredPolicy:
    before = row["before_cutover"]
    return StoredPolicy(
        policy=policy_from_document(row["state"]),
        last_event_type=row["last_event_type"],
        before_cutover=policy_from_document(before) if before is not None else None,
    )


def _row_of(stored: StoredPolicy) -> dict[str, Any]:
    policy, before = stored.policy, stored.before_cutover
    return {
        "policy_no": policy.policy_no,
        "holder_id": policy.holder_id,
        "version": policy.version,
        "state": policy_document(policy),
        "last_event_type": stored.last_event_type,
        "before_cutover": policy_document(before) if before is not None else None,
        "before_cutover_holder_id": before.holder_id if before is not None else None,
    }


class PolicyRepository:
    def __init__(self, connection: AsyncConnection) -> None:
        self._connection = connection
        self._map = IdentityMap[StoredPolicy](
            connection,
            table=policies,
            key="policy_no",
            lock_scope="scoring-policy",
            value_of=_stored_of,
            row_of=_row_of,
        )
        self._held: dict[str, set[str]] = {}
        """Holder -> policy numbers the database had for them when loaded."""
        self._saved_to: dict[str, set[str]] = {}
        """Holder -> policy numbers saved naming them, now or before cutover, in this transaction."""
        self._held_before: dict[str, set[str]] = {}
        """Holder before cutover -> policy numbers whose pre-cutover version names them, as loaded."""
        self._stale: list[dict[str, Any]] = []
        self._reconciled: list[dict[str, Any]] = []

    async def lock(self, policy_nos: Iterable[str]) -> None:
        await self._map.lock(policy_nos)

    async def get(self, policy_no: str) -> Policy | None:
        stored = await self._map.get(policy_no)
        return stored.policy if stored else None

    async def before_cutover(self, policy_no: str) -> Policy | None:
        """The policy's version in force on the day before cutover, as kept so far."""
        stored = await self._map.get(policy_no)
        return stored.before_cutover if stored else None

    def save_policy(self, policy: Policy, *, event_type: str, before_cutover: Policy | None) -> None:
        """The caller holds the policy's lock and the locks of its holders, old and new (pre-cutover too)."""
        stored = StoredPolicy(policy=policy, last_event_type=event_type, before_cutover=before_cutover)
        self._map.save(policy.policy_no, stored)
        self._saved_to.setdefault(policy.holder_id, set()).add(policy.policy_no)
        if before_cutover is not None:
            self._saved_to.setdefault(before_cutover.holder_id, set()).add(policy.policy_no)

    def save_before_cutover(self, before_cutover: Policy) -> None:
        """Only the pre-cutover version changes (a late event, stale for the current state); the
        policy is loaded and locked, and so are the holders before cutover, old and new."""
        stored = self._map.loaded(before_cutover.policy_no)
        if stored is None:
            raise RuntimeError(f"policy {before_cutover.policy_no} has no current state to keep")
        self.save_policy(stored.policy, event_type=stored.last_event_type, before_cutover=before_cutover)

    async def load_held_by(self, holder_ids: Iterable[str]) -> None:
        """Load, in two statements whatever their number, every policy the holders hold now or held on
        the day before cutover."""
        wanted = sorted({holder_id for holder_id in holder_ids if holder_id not in self._held})
        if not wanted:
            return
        rows = await self._connection.execute(
            select(policies.c.holder_id, policies.c.before_cutover_holder_id, policies.c.policy_no).where(
                or_(any_of(policies.c.holder_id, "holders"), any_of(policies.c.before_cutover_holder_id, "holders"))
            ),
            {"holders": wanted},
        )
        held: dict[str, set[str]] = {holder_id: set() for holder_id in wanted}
        held_before: dict[str, set[str]] = {holder_id: set() for holder_id in wanted}
        for row in rows:
            if row.holder_id in held:
                held[row.holder_id].add(row.policy_no)
            if row.before_cutover_holder_id in held_before:
                held_before[row.before_cutover_holder_id].add(row.policy_no)
        self._held.update(held)
        self._held_before.update(held_before)
        await self._map.load(
            policy_no for holder_id in wanted for policy_no in self._held[holder_id] | self._held_before[holder_id]
        )

    async def held_by(self, holder_id: str) -> list[Policy]:
        """The policies the customer holds now (saves of this transaction included), by policy number."""
        if holder_id not in self._held:
            await self.load_held_by([holder_id])
        candidates = self._held[holder_id] | self._saved_to.get(holder_id, set())
        current = (self._map.loaded(policy_no) for policy_no in sorted(candidates))
        return [stored.policy for stored in current if stored is not None and stored.policy.holder_id == holder_id]

    def book_size(self, holder_id: str) -> int:
        """How many policies the holder holds or held as loaded in this transaction (an upper bound): tells
        a large book, re-scored once per batch, from a small one, re-scored per event."""
        return len(self._held.get(holder_id, ())) + len(self._saved_to.get(holder_id, ()))

    async def held_before_cutover_by(self, holder_id: str) -> list[Policy]:
        """The pre-cutover versions naming the customer as holder (saves of this transaction included)."""
        if holder_id not in self._held:
            await self.load_held_by([holder_id])
        candidates = self._held_before[holder_id] | self._saved_to.get(holder_id, set())
        current = (self._map.loaded(policy_no) for policy_no in sorted(candidates))
        return [
            stored.before_cutover
            for stored in current
            if stored is not None and stored.before_cutover is not None and stored.before_cutover.holder_id == holder_id
        ]

    def record_stale(
        self, *, event_id: str, event_type: str, policy: Policy, applied_version: int, occurred_at: datetime
    ) -> None:
        self._stale.append(
            {
                "event_id": event_id,
                "policy_no": policy.policy_no,
                "event_type": event_type,
                "version": policy.version,
                "applied_version": applied_version,
                "occurred_at": occurred_at,
            }
        )

    def record_reconciliation(self, change: PolicyChange, *, previous_version: int | None) -> None:
        self._reconciled.append(
            {
                "event_id": change.event_id,
                "policy_no": change.policy.policy_no,
                "version": change.policy.version,
                "previous_version": previous_version,
                "occurred_at": change.occurred_at,
            }
        )

    async def flush(self) -> None:
        await self._map.flush()
        if self._stale:
            rows, self._stale = self._stale, []
            await self._connection.execute(insert(stale_policy_events).on_conflict_do_nothing(), rows)
        if self._reconciled:
            rows, self._reconciled = self._reconciled, []
            await self._connection.execute(insert(reconciliations).on_conflict_do_nothing(), rows)

    async def reconciliation_counts(self, policy_nos: Iterable[str]) -> dict[str, int]:
        """Per policy: how many `policy_reconciled` corrections were applied to it."""
        rows = await self._connection.execute(
            select(reconciliations.c.policy_no, func.count().label("applied"))
            .where(reconciliations.c.policy_no.in_(list(policy_nos)))
            .group_by(reconciliations.c.policy_no)
        )
        return {row.policy_no: row.applied for row in rows}

    async def stale_summaries(self, policy_nos: Iterable[str]) -> dict[str, StaleSummary]:
        rows = await self._connection.execute(
            select(
                stale_policy_events.c.policy_no,
                func.count().label("ignored"),
                func.max(stale_policy_events.c.version).label("last_version"),
            )
            .where(stale_policy_events.c.policy_no.in_(list(policy_nos)))
            .group_by(stale_policy_events.c.policy_no)
        )
        return {row.policy_no: StaleSummary(count=row.ignored, last_version=row.last_version) for row in rows}
