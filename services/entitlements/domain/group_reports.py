"""The group program's reports (rules.md section 9), pure over the records of a period:

- 附件二 the quarterly service summary per client: each service's yearly count, what is due by the
  quarter's end (`group_services.required_by_quarter_end`), what was delivered in the quarter and in
  the year to its end; the complaints received in the quarter and their handling; the surveys.
- 附件七 the yearly investment estimate: per level and service, clients x yearly count x unit cost
  (an unlimited service has no estimate), against the actual cost recorded (by the level when recorded).
- 考核 the assessment per branch and per account manager for a quarter: on-time delivery share (of
  what was due by the quarter's end, the share delivered by then, capped per service), complaints
  resolved within the response time, average satisfaction, retention (clients VIP a year before
  the quarter's end that are VIP at it). **(interpretation)** A client counts for its branch and its
  account manager as they are now; complaints and surveys count for the quarter they are dated in.
"""

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from services.entitlements.domain.group_records import is_overdue, resolved_in_time
from services.entitlements.domain.group_services import quarter_bounds, quota_of, required_by_quarter_end
from shared.group_ruleset import GroupRuleset

CENT, SHARE = Decimal("0.01"), Decimal("0.0001")


def _ratio(part: int, whole: int) -> Decimal | None:
    return (Decimal(part) / Decimal(whole)).quantize(SHARE, rounding=ROUND_HALF_UP) if whole else None


def _mean(values: Sequence[Decimal]) -> Decimal | None:
    return (sum(values, Decimal(0)) / len(values)).quantize(CENT, rounding=ROUND_HALF_UP) if values else None


@dataclass(frozen=True, kw_only=True)
class ServiceLine:
    code: str
    name: str
    yearly: int | None
    required_to_date: int | None
    delivered_in_quarter: int
    delivered_to_date: int


@dataclass(frozen=True, kw_only=True)
class ComplaintLine:
    record_id: int
    kind: str
    received_at: datetime
    topic: str
    handler: str
    resolved_at: datetime | None
    outcome: str | None
    verified: bool
    resolved_in_time: bool
    overdue: bool


@dataclass(frozen=True, kw_only=True)
class Summary:
    client_id: str
    year: int
    quarter: int
    level: str | None
    services: tuple[ServiceLine, ...]
    complaints: tuple[ComplaintLine, ...]
    surveys: int
    survey_average: Decimal | None


def quarterly_summary(
    *, client_id: str, level: str | None, year: int, quarter: int, records: Iterable[Mapping[str, Any]],
    ruleset: GroupRuleset, now: datetime,
) -> Summary:
    """`records`: the client's records dated from the year's start to the quarter's end."""
    start, end = quarter_bounds(year, quarter)
    rows = list(records)
    in_quarter = [row for row in rows if start <= row["occurred_on"] <= end]
    services = tuple(
        ServiceLine(
            code=service.code, name=service.name, yearly=quota_of(service, level),
            required_to_date=required_by_quarter_end(quota_of(service, level), quarter) if level else None,
            delivered_in_quarter=sum(1 for row in in_quarter if row["service_code"] == service.code),
            delivered_to_date=sum(1 for row in rows if row["service_code"] == service.code),
        )
        for service in ruleset.services
        if (level is not None and level in service.yearly) or any(row["service_code"] == service.code for row in rows)
    )
    complaints = tuple(
        ComplaintLine(
            record_id=row["record_id"], kind=row["kind"], received_at=row["received_at"],
            topic=row["details"].get("topic", ""), handler=row["details"].get("handler", ""),
            resolved_at=row["resolved_at"], outcome=row["details"].get("outcome"), verified=bool(row["verified"]),
            resolved_in_time=resolved_in_time(
                received_at=row["received_at"], resolved_at=row["resolved_at"], ruleset=ruleset
            ),
            overdue=is_overdue(
                received_at=row["received_at"], resolved_at=row["resolved_at"], now=now, ruleset=ruleset
            ),
        )
        for row in in_quarter
        if row["kind"] == "complaint"
    )
    averages = [row["average"] for row in in_quarter if row["kind"] == "survey" and row["average"] is not None]
    return Summary(
        client_id=client_id, year=year, quarter=quarter, level=level, services=services, complaints=complaints,
        surveys=len(averages), survey_average=_mean(averages),
    )


@dataclass(frozen=True, kw_only=True)
class InvestmentLine:
    level: str
    code: str
    name: str
    clients: int
    yearly_per_client: int | None
    unit_cost: Decimal
    estimate: Decimal | None
    delivered: int
    actual_cost: Decimal


def investment(
    *, clients_per_level: Mapping[str | None, int], records: Iterable[Mapping[str, Any]], ruleset: GroupRuleset
) -> list[InvestmentLine]:
    """Per level and service offered at it; `records`: the year's, each with the level when recorded."""
    delivered: dict[tuple[str, str], int] = defaultdict(int)
    cost: dict[tuple[str, str], Decimal] = defaultdict(Decimal)
    for row in records:
        if row["level"] is not None:
            delivered[row["level"], row["service_code"]] += 1
            cost[row["level"], row["service_code"]] += row["cost"]
    lines = []
    for band in ruleset.levels:
        if band.level is None:
            continue
        clients = clients_per_level.get(band.level, 0)
        for service in ruleset.services:
            if band.level not in service.yearly:
                continue
            yearly = service.yearly[band.level]
            key = (band.level, service.code)
            lines.append(InvestmentLine(
                level=band.level, code=service.code, name=service.name, clients=clients, yearly_per_client=yearly,
                unit_cost=service.unit_cost,
                estimate=None if yearly is None else (clients * yearly * service.unit_cost).quantize(CENT),
                delivered=delivered[key], actual_cost=cost[key].quantize(CENT),
            ))
    return lines


@dataclass(frozen=True, kw_only=True)
class ClientQuarter:
    """One client's part of a quarter's assessment."""

    client_id: str
    branch: str | None
    manager: str | None
    vip: bool
    vip_year_before: bool
    required: int
    delivered_on_time: int
    complaints: int
    complaints_in_time: int
    survey_averages: tuple[Decimal, ...]


def client_quarter(
    *, client_id: str, branch: str | None, manager: str | None, level: str | None, vip_year_before: bool, year: int,
    quarter: int, records: Iterable[Mapping[str, Any]], ruleset: GroupRuleset,
) -> ClientQuarter:
    """`records`: the client's records from the year's start to the quarter's end."""
    start, end = quarter_bounds(year, quarter)
    rows = list(records)
    required = delivered = 0
    if level is not None:
        for service in ruleset.services:
            due = required_by_quarter_end(quota_of(service, level), quarter) if level in service.yearly else None
            if due:
                required += due
                delivered += min(due, sum(1 for row in rows if row["service_code"] == service.code))
    in_quarter = [row for row in rows if start <= row["occurred_on"] <= end]
    complaints = [row for row in in_quarter if row["kind"] == "complaint"]
    return ClientQuarter(
        client_id=client_id, branch=branch, manager=manager, vip=level is not None, vip_year_before=vip_year_before,
        required=required, delivered_on_time=delivered, complaints=len(complaints),
        complaints_in_time=sum(
            1 for row in complaints
            if resolved_in_time(received_at=row["received_at"], resolved_at=row["resolved_at"], ruleset=ruleset)
        ),
        survey_averages=tuple(
            row["average"] for row in in_quarter if row["kind"] == "survey" and row["average"] is not None
        ),
    )


@dataclass(kw_only=True)
class Assessment:
    key: str | None
    vip_clients: int = 0
    required: int = 0
    delivered_on_time: int = 0
    complaints: int = 0
    complaints_in_time: int = 0
    vip_year_before: int = 0
    retained: int = 0
    survey_averages: list[Decimal] = field(default_factory=list)

    @property
    def on_time_share(self) -> Decimal | None:
        return _ratio(self.delivered_on_time, self.required)

    @property
    def complaints_in_time_share(self) -> Decimal | None:
        return _ratio(self.complaints_in_time, self.complaints)

    @property
    def average_satisfaction(self) -> Decimal | None:
        return _mean(self.survey_averages)

    @property
    def retention(self) -> Decimal | None:
        return _ratio(self.retained, self.vip_year_before)


def assess(parts: Iterable[ClientQuarter], *, by: str) -> list[Assessment]:
    """Sum the clients' parts per `by` ("branch" or "manager"); clients neither VIP now nor a year
    before, without complaints or surveys, add nothing."""
    groups: dict[str | None, Assessment] = {}
    for part in parts:
        key = part.branch if by == "branch" else part.manager
        group = groups.setdefault(key, Assessment(key=key))
        group.vip_clients += part.vip
        group.required += part.required
        group.delivered_on_time += part.delivered_on_time
        group.complaints += part.complaints
        group.complaints_in_time += part.complaints_in_time
        group.vip_year_before += part.vip_year_before
        group.retained += part.vip_year_before and part.vip
        group.survey_averages.extend(part.survey_averages)
    return sorted(groups.values(), key=lambda group: (group.key is None, group.key or ""))


def year_start(day: date) -> date:
    return date(day.year, 1, 1)
