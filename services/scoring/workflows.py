"""Scoring's use cases: re-scoring a customer (shared by the policy handler and the daily run), the
daily run's step, the points of a customer for the API.

The daily run for a date: policies whose cooling-off's last day is before it start to count (their
`next_pending_date`, the day after, is on or before the run's date). Due customers are found through
the composite index on `customers (next_pending_date, customer_id)` (never a scan of every customer),
in that order after a keyset cursor; the shared driver (`shared.daily_run`) runs each chunk in one
transaction, which re-scores and publishes `CustomerScored` with trigger `daily_run`. A policy event
re-scores its holders once per batch (`rescore_at_batch_end`).
A re-score moves `next_pending_date` past the date, so running the same date again finds nobody and
changes nothing. `finish` records the run: events arriving later never score before its date.
"""

from collections.abc import Iterable
from datetime import date
from typing import Any

from services.scoring.domain.customers import Cause, CustomerScore, score_customer, scoring_date
from services.scoring.domain.cutover import legacy_standard_premium_before_cutover
from services.scoring.domain.group import group_book
from services.scoring.domain.points import score_policy
from services.scoring.mapping import customer_scored, daily_run_cause, group_client_scored
from services.scoring.repositories import ScoringUnitOfWork
from services.scoring.repositories.customers import StoredCustomer
from shared.daily_run import ChunkDone, DailyRun, DailyRunStep
from shared.events.group import GroupClientScored
from shared.events.internal import CustomerScored
from shared.events.values import Channel
from shared.refusals import NotFound


async def rescore(uow: ScoringUnitOfWork, customer_id: str, *, as_of: date, cause: Cause) -> CustomerScored:
    """Score every policy the customer holds now, store it, and build the event that publishes it.

    The caller holds the customer's lock (`uow.customers.lock`); the score's date never goes back
    before the customer's last scoring.
    """
    last = await uow.customers.get(customer_id)
    day = scoring_date(as_of, last.scored_as_of if last else None)
    score = await _score(uow, customer_id, as_of=day)
    revision = await uow.customers.save_score(
        customer_id, score, as_of=day, trigger=cause.trigger, ruleset_version=uow.ruleset.version
    )
    return customer_scored(
        customer_id=customer_id,
        score=score,
        revision=revision,
        cause=cause,
        as_of=day,
        ruleset_version=uow.ruleset.version,
    )


def rescore_at_batch_end(uow: ScoringUnitOfWork, customer_ids: Iterable[str], *, as_of: date, cause: Cause) -> None:
    """Re-score these customers once, after the batch's last event, whatever number of their policies it
    changed: one `CustomerScored` per customer per batch, with the last event's trigger.

    Why: a holder of N policies whose N events arrive together was re-scored N times over all N policies
    (quadratic); the state published is the same, since a score is computed from the policies held now.
    The date is the latest of the events' dates (the per-event path never went back either).
    The caller holds the customers' locks until the commit.
    """
    if not uow.pending_rescores:
        uow.finish_with(lambda: rescore_pending(uow))
    for customer_id in customer_ids:
        noted = uow.pending_rescores.pop(customer_id, None)
        day = max(as_of, noted[0]) if noted else as_of
        uow.pending_rescores[customer_id] = (day, cause)


async def rescore_pending(uow: ScoringUnitOfWork) -> list[CustomerScored]:
    """`finish_batch`: every customer noted by `rescore_at_batch_end`, in the order they were last touched."""
    pending, uow.pending_rescores = uow.pending_rescores, {}
    return [await rescore(uow, customer_id, as_of=day, cause=cause) for customer_id, (day, cause) in pending.items()]


async def cooling_off_ended(uow: ScoringUnitOfWork, *, run: DailyRun, after: str, limit: int) -> ChunkDone:
    """Re-score the next `limit` customers after `after` whose next pending date is on or before the run's."""
    due, last_key = await uow.customers.due(as_of=run.as_of, after=after, limit=limit)
    if due:
        await uow.customers.lock(due)
        await uow.policies.load_held_by(due)
        cause = daily_run_cause(as_of=run.as_of, started_at=run.started_at)
        uow.publish([await rescore(uow, customer_id, as_of=run.as_of, cause=cause) for customer_id in due])
    return ChunkDone(looked_at=len(due), changed=len(due), last_key=last_key)


DAILY_RUN_STEPS: tuple[DailyRunStep[ScoringUnitOfWork], ...] = (
    DailyRunStep(name="cooling_off_ended", apply_chunk=cooling_off_ended),
)


async def finish(uow: ScoringUnitOfWork, run: DailyRun, changed: int) -> None:
    """Record the run: the last run's date is the earliest date a later event is scored at."""
    await uow.daily_runs.record(as_of=run.as_of, changed=changed)


async def _score(uow: ScoringUnitOfWork, customer_id: str, *, as_of: date) -> CustomerScore:
    """The policies held now scored at `as_of`, and the legacy figure of those held before cutover."""
    held = await uow.policies.held_by(customer_id)
    before = await uow.policies.held_before_cutover_by(customer_id)
    return score_customer(
        (score_policy(policy, ruleset=uow.ruleset, as_of=as_of) for policy in held),
        legacy_standard_premium_before_cutover=legacy_standard_premium_before_cutover(before, ruleset=uow.ruleset),
    )


async def stored_points(uow: ScoringUnitOfWork, customer_id: str) -> StoredCustomer:
    """The score last determined and published; refuses a customer never scored."""
    stored = await uow.customers.published(customer_id)
    if stored is None:
        raise NotFound(f"customer {customer_id} is unknown", reason="unknown_customer")
    return stored


async def preview_points(uow: ScoringUnitOfWork, customer_id: str, *, as_of: date) -> CustomerScore:
    """The policies the customer holds, scored at `as_of`; nothing is stored or published.

    Refuses a customer never scored who holds no policy either.
    """
    score = await _score(uow, customer_id, as_of=as_of)
    if not score.policies and await uow.customers.get(customer_id) is None:
        raise NotFound(f"customer {customer_id} is unknown", reason="unknown_customer")
    return score


async def rescore_group_client(
    uow: ScoringUnitOfWork, client_id: str, *, as_of: date, cause: Cause, profile: dict[str, Any] | None = None
) -> GroupClientScored | None:
    """Re-score a group client from its group policies held now and its reported experience; store it
    and build the event that publishes it (full state, the next revision).

    The caller holds the client's lock (`uow.group_clients.lock`). A client is known once the CRM
    described it (`profile`) or it holds a group policy; until then nothing is stored or published
    (None), and experience reported for it waits (rules.md section 9, interpretation in the README).
    """
    previous = await uow.group_clients.get(client_id)
    held = await uow.policies.held_by(client_id)
    known_profile = profile if profile is not None else (previous.profile if previous else None)
    if previous is None and known_profile is None and not any(policy.channel is Channel.GROUP for policy in held):
        return None
    book = group_book(held, ruleset=uow.ruleset, group_ruleset=uow.group_ruleset)
    experience = uow.group_clients.experience_of(client_id)
    day = scoring_date(as_of, previous.scored_as_of if previous else None)
    revision = uow.group_clients.save_score(
        client_id,
        previous=previous,
        profile=known_profile,
        book=book,
        as_of=day,
        trigger=cause.trigger,
        ruleset_version=uow.group_ruleset.version,
    )
    return group_client_scored(
        client_id=client_id,
        revision=revision,
        profile=known_profile,
        book=book,
        experience=experience,
        cause=cause,
        as_of=day,
        ruleset_version=uow.group_ruleset.version,
    )
