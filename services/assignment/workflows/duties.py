"""The duties' use cases (rules.md section 7): what the tier and CRM handlers add to a customer's work
list, the call center's service requests, operations' campaigns, a representative recording an item
done, and the daily run's two steps.

Items follow the customer without a word here: every pending item of a customer this transaction
touched takes their representative when the unit of work flushes (`WorkItemRepository.flush`), so a
reassignment by any rule moves the open items; a customer who stops being VIP has them cancelled.
"""

from dataclasses import dataclass, replace
from datetime import date
from typing import Any

from services.assignment.domain.calendar import LABELS
from services.assignment.domain.duties import (
    Completion,
    CrmProfile,
    ItemState,
    NewItem,
    PolicyIssue,
    RequestKind,
    WorkItem,
    campaign_window,
    check_completion,
    completed,
    delivery_items,
    help_item,
    holiday_items,
    holiday_key,
)
from services.assignment.domain.records import Customer
from services.assignment.repositories import AssignmentUnitOfWork, duty_sets
from shared.daily_run import ChunkDone, DailyRun, DailyRunStep
from shared.locks import lock_keys
from shared.refusals import Conflict, NotFound
from shared.ruleset import Duty, Occasion


async def follow_tier(
    uow: AssignmentUnitOfWork,
    *,
    before: Customer | None,
    now: Customer,
    policies: tuple[PolicyIssue, ...],
    effective_at: date,
) -> None:
    """After a tier decision: a customer who stops being VIP has their pending items cancelled; one
    who becomes VIP gets the year's remaining holiday occasions; a VIP's newly seen policies each give
    a delivery item. The caller holds the customer's lock."""
    was_vip = before is not None and before.is_vip
    if not now.is_vip:
        if was_vip:
            uow.work_items.cancel_pending(now.customer_id)
        return
    duties = uow.ruleset.duties
    items: list[NewItem] = []
    if not was_vip:
        profile = await uow.profiles.get(now.customer_id)
        items += holiday_items(
            now.customer_id, year=effective_at.year, birthday=profile.birthday if profile else None,
            from_date=effective_at, duties=duties,
        )
    known = [share.policy_no for share in before.policies] if before is not None else []
    items += delivery_items(
        now.customer_id, policies=policies, known=known, as_of=effective_at, duties=duties,
        late_by_at_most=uow.ruleset.cooling_off_days,
    )
    uow.work_items.add(items)


async def follow_profile(
    uow: AssignmentUnitOfWork, profile: CrmProfile, *, before: CrmProfile | None, on: date
) -> None:
    """A birthday that arrives (or changes) gives a VIP this year's birthday item if it is still ahead;
    a corrected one moves the pending item's dates. The profile is stored by the caller."""
    if profile.birthday is None or (before is not None and before.birthday == profile.birthday):
        return
    duties = uow.ruleset.duties
    if Occasion.BIRTHDAY not in duties.holiday_occasions:
        return
    await uow.customers.lock([profile.customer_id])
    customer = await uow.customers.get(profile.customer_id)
    if customer is None or not customer.is_vip:
        return
    birthday_key = holiday_key(Occasion.BIRTHDAY, on.year)
    uow.work_items.add([
        item
        for item in holiday_items(profile.customer_id, year=on.year, birthday=profile.birthday, from_date=on,
                                  duties=duties)
        if item.occasion_key == birthday_key
    ])


async def report_service_request(
    uow: AssignmentUnitOfWork, *, customer_id: str, kind: RequestKind, reference: str, note: str | None,
    reported_on: date,
) -> tuple[WorkItem, bool]:
    """A one-to-one help item for the customer's representative; the same report twice is the same item
    (the second answer says it was not created). Refused: unknown customer, a customer not VIP."""
    await uow.customers.lock([customer_id])
    customer = await uow.customers.get(customer_id)
    if customer is None:
        raise NotFound(f"customer {customer_id} is not known here", reason="unknown_customer")
    key = f"help:{kind}:{reference}"
    existing = await uow.work_items.of_occasion(customer_id, key)
    if existing is not None and existing.state is not ItemState.CANCELLED:
        return existing, False
    if not customer.is_vip:
        raise Conflict(f"customer {customer_id} is not VIP: the representative's duties are for VIPs", reason="not_vip")
    item = help_item(customer_id, kind=kind, reference=reference, reported_on=reported_on, duties=uow.ruleset.duties)
    if note:
        item = replace(item, occasion=f"{item.occasion}: {note}")
    uow.work_items.add([item])
    stored = await uow.work_items.of_occasion(customer_id, key)
    assert stored is not None
    return stored, True


async def record_done(
    uow: AssignmentUnitOfWork, *, item_id: int, completion: Completion, today: date, by_user: str
) -> WorkItem:
    """The item done by its holder, as `domain.duties.check_completion` allows; refused otherwise."""
    item = await uow.work_items.lock_item(item_id)
    if item is None:
        raise NotFound(f"work item {item_id} does not exist", reason="unknown_item")
    check_completion(item, completion, today=today)
    done = completed(item, completion)
    await uow.work_items.save_completion(done, by_user=by_user)
    return done


@dataclass(frozen=True, slots=True)
class Announced:
    campaign_id: int
    duty: Duty
    title: str
    starts_on: date
    due_on: date
    channel: str | None
    branch: str | None
    items: int


async def announce_campaign(
    uow: AssignmentUnitOfWork, *, duty: Duty, title: str, starts_on: date, due_on: date | None,
    channel: str | None, branch: str | None, by_user: str,
) -> Announced:
    """One item for every VIP of the scope (all, a serving channel, a CRM branch), in one statement."""
    duties = uow.ruleset.duties
    opens_on, due = campaign_window(duty, starts_on=starts_on, due_on=due_on, duties=duties)
    row: dict[str, Any] = {
        "duty": duty.value, "title": title, "starts_on": starts_on, "due_on": due, "channel": channel,
        "branch": branch, "created_by": by_user,
    }
    campaign_id = await duty_sets.insert_campaign(uow.connection, row=row)
    template = NewItem(
        customer_id="", duty=duty, occasion=title, occasion_key=f"campaign:{campaign_id}", opens_on=opens_on,
        due_on=due, channels=duties.rule(duty).channels,
    )
    items = await duty_sets.insert_campaign_items(
        uow.connection, campaign_id=campaign_id, template=template, channel=channel, branch=branch
    )
    await duty_sets.set_campaign_items(uow.connection, campaign_id=campaign_id, items=items)
    return Announced(
        campaign_id=campaign_id, duty=duty, title=title, starts_on=starts_on, due_on=due, channel=channel,
        branch=branch, items=items,
    )


async def generate_holiday_year(uow: AssignmentUnitOfWork, *, run: DailyRun, after: str, limit: int) -> ChunkDone:
    """Daily run: once a year (the first run dated in it), every VIP's holiday items of the year still
    ahead, `limit` VIPs (in customer-id order after `after`) per chunk, set-based; later runs of the
    year find the year complete and do nothing.

    Safe to stop anywhere: a chunk is one transaction, and the year is recorded complete only with its
    last chunk, so a run stopped half-way is resumed by the next one from the first VIP (the chunks
    already written add nothing again). The commit does not wait for the WAL flush (a chunk lost in a
    crash is redone the same way); the run's log entry, written after the last chunk with an ordinary
    commit, flushes them all before the run answers."""
    year = run.as_of.year
    await lock_keys(uow.connection, scope="assignment-holiday-year", keys=[str(year)])
    if await duty_sets.year_generated(uow.connection, year):
        return ChunkDone(looked_at=0, changed=0)
    await duty_sets.commit_without_waiting(uow.connection)
    chunk = await duty_sets.next_vips(uow.connection, after=after, limit=limit)
    duties = uow.ruleset.duties
    rule = duties.rule(Duty.HOLIDAY_CARE)
    added = 0
    if chunk.vips:
        birthday = (
            duty_sets.BirthdayItem(
                key=holiday_key(Occasion.BIRTHDAY, year), label=f"{LABELS[Occasion.BIRTHDAY]} {year}",
                opens_before=rule.opens_days_before, days_allowed=rule.days_allowed,
            )
            if Occasion.BIRTHDAY in duties.holiday_occasions
            else None
        )
        added = await duty_sets.insert_holiday_items(
            uow.connection, year=year, after=after, last=chunk.last,
            fixed=holiday_items("", year=year, birthday=None, from_date=run.as_of, duties=duties),
            birthday=birthday, channels=[channel.value for channel in rule.channels], from_date=run.as_of,
        )
    await duty_sets.record_year_progress(
        uow.connection, year=year, generated_on=run.as_of, items=added, complete=chunk.vips < limit
    )
    return ChunkDone(looked_at=chunk.vips, changed=added, last_key=chunk.last)


async def mark_items_overdue(uow: AssignmentUnitOfWork, *, run: DailyRun, after: str, limit: int) -> ChunkDone:
    """Daily run: open items due before the run's date become overdue, a chunk at a time through the
    partial index on the due date (an item changed leaves the set, so no cursor is needed)."""
    changed = await duty_sets.mark_overdue(uow.connection, as_of=run.as_of, limit=limit)
    return ChunkDone(looked_at=changed, changed=changed)


DUTY_STEPS: tuple[DailyRunStep[AssignmentUnitOfWork], ...] = (
    DailyRunStep(name="holiday_items_generated", apply_chunk=generate_holiday_year),
    DailyRunStep(name="work_items_overdue", apply_chunk=mark_items_overdue),
)


async def campaigns(uow: AssignmentUnitOfWork, *, limit: int, offset: int) -> list[Announced]:
    rows = await duty_sets.list_campaigns(uow.connection, limit=limit, offset=offset)
    return [
        Announced(
            campaign_id=row["campaign_id"], duty=Duty(row["duty"]), title=row["title"], starts_on=row["starts_on"],
            due_on=row["due_on"], channel=row["channel"], branch=row["branch"], items=row["items"],
        )
        for row in rows
    ]
