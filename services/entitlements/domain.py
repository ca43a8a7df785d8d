"""Entitlement rules of rules.md section 6: the catalog, value-added periods, the list, redemptions.

Pure functions over frozen values; nothing here reads the clock (every rule takes `as_of` or the
day of the change) or touches storage.

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
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Literal

from shared.events.values import Tier
from shared.ruleset import Ruleset

Category = Literal["basic", "value_added"]
ONE_DAY = timedelta(days=1)


@dataclass(frozen=True, kw_only=True)
class Service:
    """A service a customer may be entitled to: a catalog row, or a branch's featured service.

    `branch` is None for the catalog; a featured service belongs to the branch that registered it
    and is shown only to that branch's VIPs.
    """

    code: str
    name: str
    category: Category
    tiers: frozenset[Tier]
    yearly_quota: int | None
    branch: str | None = None

    @property
    def featured(self) -> bool:
        return self.branch is not None


def catalog_from(ruleset: Ruleset) -> tuple[Service, ...]:
    """The ruleset's catalog in its file order (the order of rules.md's table)."""
    return tuple(
        Service(
            code=definition.code,
            name=definition.name,
            category=definition.category,
            tiers=definition.tiers,
            yearly_quota=definition.yearly_quota,
        )
        for definition in ruleset.services
    )


# --- value-added periods -------------------------------------------------------------------------


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


# --- the entitlement list ------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class Standing:
    """What decides a customer's entitlements on a day: the current tier, the period, the branch."""

    tier: Tier | None
    period: Period | None
    branch: str | None

    def period_on(self, day: date) -> Period | None:
        return self.period if self.period is not None and self.period.covers(day) else None

    def is_vip_on(self, day: date) -> bool:
        """VIP now, or still inside a value-added period that a loss of VIP does not shorten."""
        return self.tier is not None or self.period_on(day) is not None


@dataclass(frozen=True, kw_only=True)
class Entitlement:
    """One row of the call center's list; `quota` and `remaining` are None where unlimited."""

    service: Service
    eligible: bool
    reason: str
    quota: int | None
    used: int
    remaining: int | None
    period_start: date | None
    period_end: date | None


def visible_services(
    *, catalog: Iterable[Service], featured: Iterable[Service], standing: Standing, as_of: date
) -> tuple[Service, ...]:
    """The catalog, then the approved featured services of the customer's own branch if VIP.

    The caller passes only featured services HQ customer service has approved.
    """
    local = tuple(
        service
        for service in featured
        if standing.branch is not None and service.branch == standing.branch and standing.is_vip_on(as_of)
    )
    return (*catalog, *local)


def entitlement_for(*, service: Service, standing: Standing, used: int, as_of: date) -> Entitlement:
    """One service's entitlement on `as_of`; `used` counts the uses in the service's current window.

    The window is the current value-added period for value-added services and the whole history for
    basic ones (they have no period).
    """
    if service.category == "basic":
        eligible = standing.tier is not None and standing.tier in service.tiers
        reason = (
            "basic service of the current tier"
            if eligible
            else "customer is not VIP"
            if standing.tier is None
            else f"not a service of the {standing.tier} tier"
        )
        return Entitlement(
            service=service,
            eligible=eligible,
            reason=reason,
            quota=None,
            used=used,
            remaining=None,
            period_start=None,
            period_end=None,
        )
    period = standing.period_on(as_of)
    eligible = period is not None and period.tier in service.tiers
    if period is None:
        reason = "no open value-added period"
    elif eligible:
        reason = f"value-added service of the {period.tier} period"
    else:
        reason = f"not a value-added service of the {period.tier} tier"
    quota = service.yearly_quota
    remaining = None if quota is None else max(quota - used, 0) if eligible else 0
    return Entitlement(
        service=service,
        eligible=eligible,
        reason=reason,
        quota=quota,
        used=used,
        remaining=remaining,
        period_start=period.start if period else None,
        period_end=period.end if period else None,
    )


def entitlements_for(
    *, services: Iterable[Service], standing: Standing, usage: Mapping[str, int], as_of: date
) -> tuple[Entitlement, ...]:
    """The list of every visible service, with `usage[code]` uses in each one's window (default 0)."""
    return tuple(
        entitlement_for(service=service, standing=standing, used=usage.get(service.code, 0), as_of=as_of)
        for service in services
    )


# --- redemption ----------------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class Granted:
    """The use is allowed; `remaining` is what is left after it (None where unlimited)."""

    remaining: int | None


@dataclass(frozen=True, kw_only=True)
class Refused:
    reason: Literal["not_eligible", "quota_used_up"]
    detail: str


def decide_redemption(entitlement: Entitlement) -> Granted | Refused:
    """Eligible and a unit left: granted. The caller holds a lock so that no two take one unit."""
    code = entitlement.service.code
    if not entitlement.eligible:
        return Refused(reason="not_eligible", detail=f"{code}: {entitlement.reason}")
    if entitlement.quota is None:
        return Granted(remaining=None)
    left = entitlement.quota - entitlement.used
    if left <= 0:
        return Refused(
            reason="quota_used_up",
            detail=f"{code}: all {entitlement.quota} uses of the period ending {entitlement.period_end} are taken",
        )
    return Granted(remaining=left - 1)
