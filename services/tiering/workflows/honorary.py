"""The honorary workflow, each command in one transaction: file, decide, revoke; and the daily run's
closing of expired grants. The group program's designations go through the same commands with their
program and chain (`workflows/group_designations.py`); only what a grant does differs by program.

Each command runs inside `Transactions.begin()` and raises a `shared.refusals.Refused` (nothing is
written then). The rules are in `domain/honorary.py`; the tier itself is changed through
`customers.set_honorary`, so a grant or revocation goes into the tier history and out as
`TierDecided` with trigger `honorary`. Expiry changes the tier through the daily run's
`customers.lapse_honorary_tiers`; here it only closes the grant in the audit trail.

An application is changed only under its advisory lock (`uow.honorary.lock`), then read again.
"""

import uuid
from datetime import date, datetime

from services.tiering.domain.customers import Honorary
from services.tiering.domain.grants import expiry_due, revoke, superseded, with_ending
from services.tiering.domain.honorary import (
    CHAIN,
    INDIVIDUAL,
    Application,
    Verdict,
    check_filing,
    decide,
    grants,
    with_decision,
)
from services.tiering.repositories import TieringUnitOfWork
from services.tiering.workflows.customers import set_honorary
from services.tiering.workflows.group_levels import designate
from shared.daily_run import ChunkDone, DailyRun
from shared.events.ids import derive_event_id
from shared.events.values import Channel, Tier
from shared.refusals import Conflict, NotFound


def new_application_id() -> str:
    return f"HA{uuid.uuid4().hex[:20].upper()}"


async def file_application(
    uow: TieringUnitOfWork,
    *,
    customer_id: str,
    tier: str,
    reason: str | None,
    expires_on: date | None,
    user_id: str,
    as_of: date,
    at: datetime,
    channel: Channel | None = None,
    branch: str | None = None,
    program: str = INDIVIDUAL,
    chain: tuple[str, ...] = CHAIN,
    levels: tuple[str, ...] | None = None,
) -> Application:
    """File an application of `program`, to be decided along `chain` (fixed from now on); `levels`
    are the group levels one may apply for (None: the honorary tiers); `channel` and `branch` (the
    filer's) serve an honorary customer if no policy of theirs counts."""
    filing = check_filing(
        customer_id=customer_id,
        tier=tier,
        reason=reason,
        expires_on=expires_on,
        as_of=as_of,
        open_application_id=await uow.honorary.open_for(customer_id, program=program),
        channel=channel,
        branch=branch,
        levels=levels,
    )
    application = Application(
        program=program,
        chain=chain,
        id=new_application_id(),
        customer_id=filing.customer_id,
        tier=filing.tier,
        reason=filing.reason,
        expires_on=filing.expires_on,
        channel=filing.channel,
        branch=filing.branch,
        filed_by=user_id,
        filed_at=at,
    )
    if not await uow.honorary.add(application):
        raise Conflict(f"{customer_id} already has an open {program} application", reason="open_application")
    return application


async def decide_step(
    uow: TieringUnitOfWork,
    *,
    application_id: str,
    user_id: str,
    roles: frozenset[str],
    verdict: Verdict,
    comment: str | None,
    expected_step: str | None,
    as_of: date,
    at: datetime,
    program: str = INDIVIDUAL,
) -> Application:
    """Decide the step now waiting; the last approval grants the honorary tier (the group level) and
    publishes it."""
    application = await _locked(uow, application_id, program=program)
    decision = decide(
        application,
        user_id=user_id,
        roles=roles,
        verdict=verdict,
        comment=comment,
        expected_step=expected_step,
        as_of=as_of,
        decided_at=at,
    )
    application = with_decision(application, decision)
    await uow.honorary.save_decision(application, decision)
    if grants(application):
        await _supersede_grant_in_force(uow, by=application, as_of=as_of, at=at)
        await uow.honorary.index_state(application)
        if application.program == INDIVIDUAL:
            uow.publish(
                await set_honorary(
                    uow,
                    customer_id=application.customer_id,
                    honorary=Honorary(
                        tier=Tier(application.tier),
                        expires_on=application.expires_on,
                        channel=application.channel,
                        branch=application.branch,
                    ),
                    as_of=as_of,
                    cause_id=derive_event_id("honorary", application.id, "granted"),
                    occurred_at=at,
                )
            )
        else:
            uow.publish(await designate(uow, application=application, as_of=as_of, at=at))
    else:
        await uow.honorary.index_state(application)
    return application


async def revoke_grant(
    uow: TieringUnitOfWork,
    *,
    application_id: str | None = None,
    customer_id: str | None = None,
    user_id: str,
    comment: str | None,
    as_of: date,
    at: datetime,
) -> Application:
    """End a grant in force, named by its application or by its customer; the tier is re-decided."""
    if application_id is not None:
        application = await _locked(uow, application_id, program=INDIVIDUAL)
    else:
        found = await uow.honorary.granted_for(customer_id or "")
        if found is None:
            raise NotFound(f"customer {customer_id} holds no honorary status to revoke", reason="no_grant")
        application = found
    ending = revoke(application, user_id=user_id, comment=comment, as_of=as_of, at=at)
    application = with_ending(application, ending)
    await uow.honorary.save_ending(application, ending)
    await uow.honorary.index_state(application)
    uow.publish(
        await set_honorary(
            uow,
            customer_id=application.customer_id,
            honorary=None,
            as_of=as_of,
            cause_id=derive_event_id("honorary", application.id, "revoked"),
            occurred_at=at,
        )
    )
    return application


async def close_expired_grants(uow: TieringUnitOfWork, *, run: DailyRun, after: str, limit: int) -> ChunkDone:
    """A daily-run chunk: grants in force whose expiry has come by `run.as_of` are closed as `expired`.

    Found through the partial expiry index in id order after `after`, then locked (one statement)
    and read again (three): one revoked meanwhile is left alone. Reports no change: the customer's
    tier lapses in `lapse_honorary_tiers`, which counts it, and `changed` counts customers.
    """
    due = await uow.honorary.expiring(as_of=run.as_of, after=after, limit=limit)
    await uow.honorary.lock(due)
    for application in await uow.honorary.get_many(due):
        ending = expiry_due(application, as_of=run.as_of, at=run.started_at)
        if ending is None:
            continue
        expired = with_ending(application, ending)
        await uow.honorary.save_ending(expired, ending)
        await uow.honorary.index_state(expired)
    return ChunkDone(looked_at=len(due), changed=0, last_key=due[-1] if due else "")


async def _supersede_grant_in_force(uow: TieringUnitOfWork, *, by: Application, as_of: date, at: datetime) -> None:
    """A new grant replaces the customer's grant in force, which is closed (and recorded) first."""
    previous = await uow.honorary.granted_for(by.customer_id, program=by.program)
    if previous is None or previous.id == by.id:
        return
    ending = superseded(previous, by=by.id, as_of=as_of, at=at)
    if ending is None:
        return
    previous = with_ending(previous, ending)
    await uow.honorary.save_ending(previous, ending)
    await uow.honorary.index_state(previous)


async def _locked(uow: TieringUnitOfWork, application_id: str, *, program: str) -> Application:
    await uow.honorary.lock([application_id])
    application = await uow.honorary.get(application_id)
    if application is None or application.program != program:
        kind = "honorary application" if program == INDIVIDUAL else "group designation"
        raise NotFound(f"no {kind} {application_id}", reason="unknown_application")
    return application
