"""The call center's entitlement list and the redemption decision (rules.md section 6). Pure."""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date

from services.entitlements.domain.catalog import Service
from services.entitlements.domain.periods import Period
from shared.events.values import Tier
from shared.refusals import Conflict, Forbidden


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



def decide_redemption(entitlement: Entitlement) -> Granted:
    """Eligible and a unit left: granted. The caller holds a lock so that no two take one unit.

    Raises `Forbidden` (reason `not_eligible`) for a service the customer is not entitled to, and
    `Conflict` (reason `quota_used_up`) when the window's quota is taken.
    """
    code = entitlement.service.code
    if not entitlement.eligible:
        raise Forbidden(f"{code}: {entitlement.reason}", reason="not_eligible")
    if entitlement.quota is None:
        return Granted(remaining=None)
    left = entitlement.quota - entitlement.used
    if left <= 0:
        raise Conflict(
            f"{code}: all {entitlement.quota} uses of the period ending {entitlement.period_end} are taken",
            reason="quota_used_up",
        )
    return Granted(remaining=left - 1)
