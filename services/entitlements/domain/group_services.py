"""The group catalog per level and its yearly counts (rules.md section 9, 服务标准), pure.

- A service is offered at a level when the ruleset lists the level in its `yearly` counts (None:
  unlimited). A regular client (no level) is offered only the services that do not require a level,
  without a count.
- Counts run per **calendar year** of the service's date in the insurer's zone **(interpretation:
  the seed says "yearly" and names no other year)**; a recorded service counts against the
  client's count for its year, whatever the level was when recorded.
- Recording refuses: an unknown service code (422 `unknown_service`); a service needing a level for
  a regular client (422 `not_vip`); a service the level does not offer (422 `not_offered`); a count
  already used up for that year (409 `quota_reached`).
- Quarterly requirement **(interpretation)**: by the end of quarter q, `floor(yearly x q / 4)` of a
  service are due (an annual survey is due by Q4, four holiday visits one per quarter).
"""

from dataclasses import dataclass
from datetime import date

from shared.group_ruleset import GroupRuleset, GroupService
from shared.refusals import Conflict, Invalid


@dataclass(frozen=True, kw_only=True)
class Allowance:
    """One catalog service for a client this year: its count (None: unlimited) and what is used."""

    code: str
    name: str
    quota: int | None
    used: int

    @property
    def remaining(self) -> int | None:
        return None if self.quota is None else max(self.quota - self.used, 0)


def offered(service: GroupService, level: str | None) -> bool:
    if level is None:
        return not service.requires_level
    return level in service.yearly


def quota_of(service: GroupService, level: str | None) -> int | None:
    return service.yearly.get(level) if level is not None else None


def allowances(*, level: str | None, used: dict[str, int], ruleset: GroupRuleset) -> list[Allowance]:
    """The services offered at the level, in catalog order, with their counts for the year."""
    return [
        Allowance(code=service.code, name=service.name, quota=quota_of(service, level), used=used.get(service.code, 0))
        for service in ruleset.services
        if offered(service, level)
    ]


def service_to_record(*, code: str, level: str | None, ruleset: GroupRuleset) -> GroupService:
    """The catalog service a record counts against, or the refusal (422) naming why it cannot."""
    service = ruleset.service(code)
    if service is None:
        raise Invalid(f"{code!r} is not a service of the group catalog ({ruleset.version})", reason="unknown_service")
    if level is None and service.requires_level:
        raise Invalid(f"{service.name} is for VIP group clients; this client is a regular client", reason="not_vip")
    if not offered(service, level):
        raise Invalid(f"{service.name} is not offered at {level}", reason="not_offered")
    return service


def check_quota(*, service: GroupService, level: str | None, used_this_year: int, year: int) -> None:
    """Raise 409 when the year's count is used up; an unlimited service never is."""
    quota = quota_of(service, level)
    if quota is not None and used_this_year >= quota:
        raise Conflict(
            f"{service.name}: the {year} count for {level} ({quota}) is used up", reason="quota_reached"
        )


def quarter_of(day: date) -> int:
    return (day.month - 1) // 3 + 1


def quarter_bounds(year: int, quarter: int) -> tuple[date, date]:
    """First and last day of the quarter."""
    start = date(year, 3 * quarter - 2, 1)
    end = date(year + 1, 1, 1) if quarter == 4 else date(year, 3 * quarter + 1, 1)
    return start, date.fromordinal(end.toordinal() - 1)


def required_by_quarter_end(quota: int | None, quarter: int) -> int | None:
    return None if quota is None else quota * quarter // 4
