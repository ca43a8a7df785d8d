"""Value-added periods (rules.md section 6). Pure: every rule takes the day of the change or `as_of`.

Two clocks govern a customer's services:
- **Basic services** follow the customer's *current* effective tier at every moment.
- **Value-added services** follow the customer's *value-added period*: each time the customer attains
  a tier (becomes VIP, or rises a tier, honorary included) a period of `value_added_period_months`
  opens on that day with that tier's services and full quotas, replacing any open period. A
  downgrade or a loss of VIP leaves the open period untouched. When a period ends, the next one
  opens on the following day only if the customer is VIP on that day, at the tier then held.

`Period.end` is the period's last day (inclusive): a period opened on 2026-03-16 for 12 months runs
to 2027-03-15, and its successor, if any, opens on 2027-03-16.
"""

import calendar
from dataclasses import dataclass
from datetime import date, timedelta

from shared.events.values import Tier
from shared.ruleset import Ruleset

ONE_DAY = timedelta(days=1)



def add_months(day: date, months: int) -> date:
    """The same day of the month `months` later, clamped to the month's last day (Feb 29 -> Feb 28)."""
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


@dataclass(frozen=True, kw_only=True)
class Period:
    """A value-added period: `tier`'s value-added services with full quotas from `start` to `end`."""

    tier: Tier
    start: date
    end: date

    def covers(self, day: date) -> bool:
        return self.start <= day <= self.end


def period_opening(*, tier: Tier, on: date, ruleset: Ruleset) -> Period:
    """The period that opens on `on`: `value_added_period_months` long, `end` its last day."""
    return Period(tier=tier, start=on, end=add_months(on, ruleset.value_added_period_months) - ONE_DAY)


def attains(*, previous: Tier | None, new: Tier | None) -> bool:
    """True when `new` is a tier attained: becoming VIP, or rising above the previous tier."""
    if new is None:
        return False
    return previous is None or new.rank > previous.rank


def period_after_tier_change(
    *, previous_tier: Tier | None, new_tier: Tier | None, effective_on: date, ruleset: Ruleset
) -> Period | None:
    """The period a tier change opens (replacing any open one), or None when it opens none.

    A downgrade, a loss of VIP or an unchanged tier opens nothing and so leaves the open period as
    it is: rules.md says they do not shorten it.
    """
    if new_tier is None or not attains(previous=previous_tier, new=new_tier):
        return None
    return period_opening(tier=new_tier, on=effective_on, ruleset=ruleset)


@dataclass(frozen=True, kw_only=True)
class TierTimeline:
    """The customer's effective tier over time: `(effective_on, tier)` in the order applied."""

    changes: tuple[tuple[date, Tier | None], ...]

    def tier_on(self, day: date) -> Tier | None:
        """The tier of the last change effective on or before `day`; None before the first."""
        tier: Tier | None = None
        for effective_on, changed_to in self.changes:
            if effective_on <= day:
                tier = changed_to
        return tier


def period_rolled_over(*, period: Period, timeline: TierTimeline, as_of: date, ruleset: Ruleset) -> Period | None:
    """The period current on `as_of` once `period` is rolled over; None when none is.

    Returns `period` itself while it still covers `as_of`. When it ended before `as_of`, the next one
    opens on the day after its end at the tier held that day, and so on (a daily run that was missed
    for a while catches up); the chain stops at a day on which the customer was not VIP.
    """
    current = period
    while current.end < as_of:
        successor_start = current.end + ONE_DAY
        tier = timeline.tier_on(successor_start)
        if tier is None:
            return None
        current = period_opening(tier=tier, on=successor_start, ruleset=ruleset)
    return current


COOLING_OFF_CANCELLATION = "cooling_off_cancellation"


def is_withdrawn_by(
    *,
    trigger: str,
    period: Period,
    tier_now: Tier | None,
    counted_at_opening: frozenset[str] | None,
    no_longer_counted: frozenset[str],
) -> bool:
    """True when a late cooling-off cancellation withdraws `period` (rules.md section 4).

    Only a `cooling_off_cancellation` withdraws, and only a period whose tier the customer no longer
    holds without the cancelled policy (`tier_now` ranks below it): where other counting policies (or
    an honorary tier) still reach it, nothing is withdrawn. The period must have opened because of
    the policy: one opened by a tier decision records the policies counted then
    (`counted_at_opening`), and one of them must have stopped counting (`no_longer_counted`); a period
    opened by a roll-over records none (None) and is judged on the tiers alone.
    """
    if trigger != COOLING_OFF_CANCELLATION:
        return False
    if tier_now is not None and tier_now.rank >= period.tier.rank:
        return False
    return counted_at_opening is None or bool(counted_at_opening & no_longer_counted)


def withdrawn(period: Period, *, cancelled_on: date) -> Period:
    """The period closed on the cancellation's date: its last usable day is the day before."""
    return Period(tier=period.tier, start=period.start, end=cancelled_on - ONE_DAY)
