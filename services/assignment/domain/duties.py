"""The representative's duties toward each VIP (rules.md section 7), as pure rules over frozen values.

Work items are generated, never typed in: holiday care from the calendar and the CRM birthday, a
policy delivery for each newly seen policy of a VIP, one-to-one help for each claim or servicing
request the call center reports, and one item per VIP for each campaign operations announce. Each
item opens on a date, falls due on another (the ruleset's days), and allows the duty's channels only.

Invariants: an item is keyed by (customer, `occasion_key`), so generating twice never doubles it; an
item is done once, on or after it opens, by an allowed channel, never in the future; compliance
counts only items done on time (a late one is recorded but does not count). No clock: `as_of`/`today`.
"""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from enum import StrEnum
from typing import Literal

from services.assignment.domain.calendar import LABELS, occasion_date
from shared.refusals import Conflict, Invalid
from shared.ruleset import ContactChannel, Duties, Duty, Occasion

RequestKind = Literal["claim", "servicing"]


class ItemState(StrEnum):
    OPEN = "open"
    OVERDUE = "overdue"
    DONE = "done"
    CANCELLED = "cancelled"


PENDING = (ItemState.OPEN, ItemState.OVERDUE)
"""States of an item still to be done: these move with the customer and are cancelled with VIP status."""


@dataclass(frozen=True, slots=True)
class NewItem:
    """An occurrence of a duty to be done for a customer, before it is stored."""

    customer_id: str
    duty: Duty
    occasion: str
    occasion_key: str
    opens_on: date
    due_on: date
    channels: frozenset[ContactChannel]

    @property
    def year(self) -> int:
        """The calendar year the item counts for in compliance: its due date's."""
        return self.due_on.year


@dataclass(frozen=True, slots=True)
class WorkItem:
    item_id: int
    customer_id: str
    duty: Duty
    occasion: str
    opens_on: date
    due_on: date
    channels: frozenset[ContactChannel]
    agent_id: str | None
    state: ItemState
    done_on: date | None = None
    done_channel: ContactChannel | None = None
    done_by_agent: str | None = None
    note: str | None = None

    @property
    def on_time(self) -> bool:
        return self.state is ItemState.DONE and self.done_on is not None and self.done_on <= self.due_on


@dataclass(frozen=True, slots=True)
class Completion:
    done_on: date
    channel: ContactChannel
    note: str | None


def _window(duty: Duty, day: date, duties: Duties) -> tuple[date, date]:
    rule = duties.rule(duty)
    return day - timedelta(days=rule.opens_days_before), day + timedelta(days=rule.days_allowed)


def holiday_key(occasion: Occasion, year: int) -> str:
    return f"holiday:{occasion.value}:{year}"


def holiday_items(
    customer_id: str, *, year: int, birthday: date | None, from_date: date, duties: Duties
) -> list[NewItem]:
    """The year's holiday-care occasions still ahead on `from_date` (due on or after it): all of them
    at the start of the year, the remaining ones for a customer who becomes VIP mid-year. Without a
    CRM birthday there is no birthday item (it comes when the birthday arrives)."""
    channels = duties.rule(Duty.HOLIDAY_CARE).channels
    items = []
    for occasion in duties.holiday_occasions:
        day = occasion_date(occasion, year, birthday=birthday)
        if day is None:
            continue
        opens_on, due_on = _window(Duty.HOLIDAY_CARE, day, duties)
        if due_on >= from_date:
            items.append(
                NewItem(
                    customer_id=customer_id, duty=Duty.HOLIDAY_CARE, occasion=f"{LABELS[occasion]} {year}",
                    occasion_key=holiday_key(occasion, year), opens_on=opens_on, due_on=due_on, channels=channels,
                )
            )
    return items


@dataclass(frozen=True, slots=True)
class PolicyIssue:
    policy_no: str
    issued_on: date


def delivery_items(
    customer_id: str, *, policies: Sequence[PolicyIssue], known: Iterable[str], as_of: date, duties: Duties,
    late_by_at_most: int,
) -> list[NewItem]:
    """A delivery for each policy of a VIP not seen before, issued at most `late_by_at_most` days beyond
    its delivery days before `as_of` (the ruleset's cooling-off: a new policy's points, and so the
    decision that shows it, may come only when its cooling-off ends).

    Due within the ruleset's days of issue; a policy the platform learns of after that date (its
    decision came at the end of its cooling-off) is due the ruleset's days after `as_of`. A customer who
    becomes VIP brings policies issued long ago: those were delivered when issued and give no item
    (interpretation of "each new policy").
    """
    seen = set(known)
    days = duties.rule(Duty.POLICY_DELIVERY).days_allowed
    items = []
    for policy in policies:
        opens_on, due_on = _window(Duty.POLICY_DELIVERY, policy.issued_on, duties)
        if policy.policy_no in seen or due_on < as_of - timedelta(days=late_by_at_most):
            continue
        items.append(
            NewItem(
                customer_id=customer_id, duty=Duty.POLICY_DELIVERY, occasion=f"policy {policy.policy_no} delivered",
                occasion_key=f"delivery:{policy.policy_no}", opens_on=opens_on,
                due_on=due_on if due_on >= as_of else as_of + timedelta(days=days),
                channels=duties.rule(Duty.POLICY_DELIVERY).channels,
            )
        )
    return items


def help_item(
    customer_id: str, *, kind: RequestKind, reference: str, reported_on: date, duties: Duties
) -> NewItem:
    """One-to-one help for a reported claim or servicing request, due within the ruleset's days."""
    opens_on, due_on = _window(Duty.ONE_TO_ONE_HELP, reported_on, duties)
    return NewItem(
        customer_id=customer_id, duty=Duty.ONE_TO_ONE_HELP, occasion=f"{kind} {reference}",
        occasion_key=f"help:{kind}:{reference}", opens_on=opens_on, due_on=due_on,
        channels=duties.rule(Duty.ONE_TO_ONE_HELP).channels,
    )


CAMPAIGN_DUTIES = (Duty.COMPANY_NEWS, Duty.NEW_PRODUCT, Duty.SERVICE_FESTIVAL)


def campaign_window(duty: Duty, *, starts_on: date, due_on: date | None, duties: Duties) -> tuple[date, date]:
    """A campaign's items open on its start and are due on its own date, else the ruleset's days after."""
    if duty not in CAMPAIGN_DUTIES:
        raise Invalid(
            f"a campaign announces {', '.join(each.value for each in CAMPAIGN_DUTIES)}, not {duty.value}",
            reason="not_a_campaign_duty",
        )
    if due_on is not None and due_on < starts_on:
        raise Invalid(f"due_on {due_on} is before starts_on {starts_on}", reason="due_before_start")
    return starts_on, due_on or _window(duty, starts_on, duties)[1]


def check_completion(item: WorkItem, completion: Completion, *, today: date) -> None:
    """Refuses a completion the duty does not allow: twice, of a cancelled item, by a channel the duty
    does not allow (naming the allowed ones), before the item opens, or dated in the future."""
    if item.state is ItemState.DONE:
        raise Conflict(
            f"item {item.item_id} ({item.occasion}) was already done on {item.done_on}", reason="already_done"
        )
    if item.state is ItemState.CANCELLED:
        raise Conflict(f"item {item.item_id} ({item.occasion}) is cancelled", reason="cancelled")
    if completion.channel not in item.channels:
        allowed = ", ".join(sorted(channel.value for channel in item.channels))
        raise Invalid(
            f"{item.duty.value} may not be done by {completion.channel.value}: allowed {allowed}",
            reason="channel_not_allowed",
        )
    if completion.done_on < item.opens_on:
        raise Invalid(
            f"item {item.item_id} ({item.occasion}) opens on {item.opens_on}: it cannot be done on "
            f"{completion.done_on}",
            reason="not_open_yet",
        )
    if completion.done_on > today:
        raise Invalid(f"done_on {completion.done_on} is in the future (today is {today})", reason="done_in_future")


def completed(item: WorkItem, completion: Completion) -> WorkItem:
    """The item done by its holder (who, when, how, and the note)."""
    return replace(
        item, state=ItemState.DONE, done_on=completion.done_on, done_channel=completion.channel,
        done_by_agent=item.agent_id, note=completion.note,
    )


@dataclass(frozen=True, slots=True)
class DutyCount:
    """One duty of one VIP's year: items done on time against what is required."""

    duty: Duty
    required: int
    items: int
    done: int
    on_time: int
    overdue: int

    @property
    def meets(self) -> bool:
        return self.on_time >= self.required


def compliance(items: Sequence[WorkItem], *, duties: Duties) -> list[DutyCount]:
    """Each duty's count against its minimum for one VIP's year (cancelled items left out).

    A duty with a minimum needs that many items done on time; one without (deliveries, help) needs
    every item done on time.
    """
    counts = []
    for duty in Duty:
        mine = [item for item in items if item.duty is duty and item.state is not ItemState.CANCELLED]
        minimum = duties.rule(duty).minimum
        counts.append(
            DutyCount(
                duty=duty,
                required=len(mine) if minimum is None else minimum,
                items=len(mine),
                done=sum(item.state is ItemState.DONE for item in mine),
                on_time=sum(item.on_time for item in mine),
                overdue=sum(item.state is ItemState.OVERDUE for item in mine),
            )
        )
    return counts


@dataclass(frozen=True, slots=True)
class CrmProfile:
    """What the CRM says of a customer (`customer_upserted`): the birthday drives the birthday item,
    the branch a campaign's branch scope. `at`: the event's `occurred_at` (an older one is stale)."""

    customer_id: str
    name: str
    birthday: date | None
    branch: str
    at: datetime
