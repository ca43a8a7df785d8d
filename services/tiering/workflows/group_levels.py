"""The group program's levels (rules.md section 9): what a new score, an evaluation (quarter end or on
demand) and an approved designation do to a client's effective level, and when it is published.

Every path locks the client (`uow.group_clients.lock`) and reads it again, then `settle`s: the
effective level follows from the stored state (`domain.group.effective_level`), and a
`GroupLevelDecided` with the client's next revision goes out whenever what it says changes (the
level, the evaluated or approved level, the score or a coefficient, the evaluation date, the
branch). Between evaluations the evaluated level never moves; a client without an in-force group
policy is not VIP at once, whatever it was evaluated or approved at.

The quarter-end evaluation is set-based: the daily run of a quarter-end date walks every known
client in client-id order, a chunk per transaction, in four statements whatever the chunk's size: find
the due clients, lock them, evaluate them in SQL (store the decided columns and the evaluations,
return the clients whose view changed), append their decisions to the outbox. A client evaluated on
or after the date is not due, so a date run twice evaluates nobody the second time.
"""

from dataclasses import replace
from datetime import date, datetime, time

from services.tiering.domain.group import Evaluation, approval_in_force, effective_level, evaluate, quarter_end
from services.tiering.domain.group_state import GroupClientState
from services.tiering.domain.honorary import Application
from services.tiering.mapping import group_level_decided
from services.tiering.repositories import TieringUnitOfWork
from shared.daily_run import ChunkDone, DailyRun
from shared.events.group import GroupLevelDecided
from shared.events.ids import derive_event_id
from shared.refusals import Conflict, NotFound

QUARTER_END = "quarter_end"
ON_DEMAND = "on_demand"
DESIGNATION = "designation"


def _view(client: GroupClientState) -> tuple[object, ...]:
    return (
        client.level, client.evaluated_level, client.approved_level, client.score, client.scale, client.loyalty,
        client.profit, client.evaluated_on, client.branch,
    )


def _explained(client: GroupClientState, *, uow: TieringUnitOfWork) -> GroupClientState:
    """The client with its effective level and the reason for it."""
    ruleset = uow.group_ruleset
    level = effective_level(
        evaluated=client.evaluated_level,
        approved=client.approved_level,
        in_force_policies=client.in_force_policies,
        ruleset=ruleset,
    )
    if client.evaluated_on is None:
        reason = "not evaluated yet"
    else:
        reason = (
            f"score {client.score} = scale {client.scale} x loyalty {client.loyalty} x profit {client.profit} "
            f"(evaluated {client.evaluated_on.isoformat()}): {client.evaluated_level or 'regular client'}"
        )
    if client.approved_level is not None:
        until = f" until {client.approved_expires_on.isoformat()}" if client.approved_expires_on else ""
        reason += f"; designated {client.approved_level} by application {client.approved_application}{until}"
    if client.in_force_policies == 0:
        reason = f"no in-force group policy: not VIP ({reason})"
    elif level is not None and level != client.evaluated_level:
        reason += f"; effective {level} (the higher of evaluated and approved)"
    return replace(client, level=level, reason=reason)


def settle(
    uow: TieringUnitOfWork,
    *,
    before: GroupClientState,
    after: GroupClientState,
    trigger: str,
    cause_id: str,
    correlation_id: str,
    occurred_at: datetime,
    effective_at: date,
) -> list[GroupLevelDecided]:
    """Store the client; publish a decision when what it says changed. The client must be locked."""
    explained = _explained(after, uow=uow)
    if _view(explained) == _view(before):
        uow.group_clients.save(replace(explained, revision=before.revision))
        return []
    explained = replace(explained, revision=before.revision + 1)
    uow.group_clients.save(explained)
    return [
        group_level_decided(
            explained,
            trigger=trigger,
            cause_id=cause_id,
            correlation_id=correlation_id,
            occurred_at=occurred_at,
            effective_at=effective_at,
            ruleset_version=uow.group_ruleset.version,
        )
    ]


async def evaluate_client(
    uow: TieringUnitOfWork,
    stored: GroupClientState,
    *,
    as_of: date,
    trigger: str,
    occurred_at: datetime,
    correlation_id: str | None = None,
) -> tuple[GroupClientState, Evaluation, list[GroupLevelDecided]]:
    """Evaluate a locked, known client on `as_of`: store the evaluation, drop an approval expired by
    then (an approved level holds until the evaluation after its expiry), settle the level."""
    evaluation = evaluate(stored.facts, as_of=as_of, ruleset=uow.group_ruleset)
    uow.group_clients.record_evaluation(evaluation, trigger=trigger)
    approval = approval_in_force(stored.approval, as_of=as_of)
    updated = replace(
        stored,
        evaluated_level=evaluation.level,
        score=evaluation.score,
        scale=evaluation.scale,
        loyalty=evaluation.loyalty,
        profit=evaluation.profit,
        evaluated_on=as_of,
        approved_level=approval.level if approval else None,
        approved_expires_on=approval.expires_on if approval else None,
        approved_application=approval.application_id if approval else None,
    )
    cause = f"group_evaluation/{trigger}/{as_of.isoformat()}/{stored.client_id}/{stored.revision}"
    published = settle(
        uow, before=stored, after=updated, trigger=trigger, cause_id=cause,
        correlation_id=correlation_id or derive_event_id(cause), occurred_at=occurred_at, effective_at=as_of,
    )
    return uow.group_clients.loaded(stored.client_id), evaluation, published


async def evaluate_on_demand(
    uow: TieringUnitOfWork, *, client_id: str, as_of: date, at: datetime
) -> tuple[GroupClientState, Evaluation]:
    """`POST /v1/group-clients/{id}/evaluations`: refuses a client never seen, and a date before the
    client's last evaluation (the level never goes back to an older picture)."""
    await uow.group_clients.lock([client_id])
    stored = await uow.group_clients.get(client_id)
    if not stored.known:
        raise NotFound(f"group client {client_id} is unknown", reason="unknown_client")
    if stored.evaluated_on is not None and as_of < stored.evaluated_on:
        raise Conflict(
            f"group client {client_id} was last evaluated on {stored.evaluated_on}: an evaluation as of {as_of} "
            "would go back in time",
            reason="before_last_evaluation",
        )
    updated, evaluation, published = await evaluate_client(
        uow, stored, as_of=as_of, trigger=ON_DEMAND, occurred_at=at
    )
    uow.publish(published)
    return updated, evaluation


async def quarter_end_evaluated(uow: TieringUnitOfWork, *, run: DailyRun, after: str, limit: int) -> ChunkDone:
    """A daily-run chunk: on a quarter-end date, the next `limit` known clients not yet evaluated on or
    after it are evaluated (trigger `quarter_end`); on any other date nothing is due.

    Set-based: the repository evaluates the whole chunk in one statement (the rules of `evaluate_client`
    written in SQL, held equal to it by `tests/tiering/test_group_quarter_end_sql.py`); what is left
    here per client is its `GroupLevelDecided`, the same event `settle` publishes."""
    if not quarter_end(run.as_of):
        return ChunkDone(looked_at=0, changed=0)
    due = await uow.group_clients.due_for_evaluation(as_of=run.as_of, after=after, limit=limit)
    decided = await uow.group_clients.evaluate_in_bulk(
        due, as_of=run.as_of, trigger=QUARTER_END, ruleset=uow.group_ruleset
    )
    occurred_at = datetime.combine(run.as_of, time.min, tzinfo=uow.group_ruleset.zone)
    correlation_id = derive_event_id("group_quarter_end", run.as_of.isoformat())
    as_of = run.as_of.isoformat()
    uow.publish([
        group_level_decided(
            client,
            trigger=QUARTER_END,
            cause_id=f"group_evaluation/{QUARTER_END}/{as_of}/{client.client_id}/{client.revision - 1}",
            correlation_id=correlation_id,
            occurred_at=occurred_at,
            effective_at=run.as_of,
            ruleset_version=uow.group_ruleset.version,
        )
        for client in decided
    ])
    return ChunkDone(looked_at=len(due), changed=len(decided), last_key=due[-1] if due else "")


async def designate(
    uow: TieringUnitOfWork, *, application: Application, as_of: date, at: datetime
) -> list[GroupLevelDecided]:
    """An application approved through the group chain: the client holds the level applied for until
    the evaluation after its expiry; the effective level is the higher of evaluated and approved."""
    await uow.group_clients.lock([application.customer_id])
    stored = await uow.group_clients.get(application.customer_id)
    updated = replace(
        stored,
        approved_level=application.tier,
        approved_expires_on=application.expires_on,
        approved_application=application.id,
    )
    cause = derive_event_id("group_designation", application.id, "granted")
    return settle(
        uow, before=stored, after=updated, trigger=DESIGNATION, cause_id=cause, correlation_id=cause,
        occurred_at=at, effective_at=as_of,
    )
