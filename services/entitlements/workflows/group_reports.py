"""The group program's reports, read in a few statements each and computed by the pure rules of
`domain.group_reports`: the quarterly summary of a client, the yearly investment estimate, the
quarter's assessment, the movements of levels, and the program overview for operations."""

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from services.entitlements.domain.group_records import is_overdue
from services.entitlements.domain.group_reports import (
    Assessment,
    InvestmentLine,
    Summary,
    assess,
    client_quarter,
    investment,
    quarterly_summary,
)
from services.entitlements.domain.group_services import quarter_bounds, quarter_of
from services.entitlements.repositories import EntitlementsUnitOfWork
from services.entitlements.workflows.group_records import known_client


async def summary_of(
    uow: EntitlementsUnitOfWork, *, client_id: str, year: int, quarter: int, now: datetime
) -> Summary:
    client = await known_client(uow, client_id)
    _, end = quarter_bounds(year, quarter)
    level = (await uow.group_clients.levels_on(end)).get(client.client_id)
    records = await uow.group_records.between(date(year, 1, 1), end, client_ids=[client_id])
    return quarterly_summary(
        client_id=client_id, level=level, year=year, quarter=quarter, records=records, ruleset=uow.group_ruleset,
        now=now,
    )


async def investment_of(uow: EntitlementsUnitOfWork, *, year: int, today: date) -> list[InvestmentLine]:
    """Clients per level as of the year's end (today for the current year), against the year's records."""
    as_of = min(date(year, 12, 31), today)
    per_level: dict[str | None, int] = defaultdict(int)
    for level in (await uow.group_clients.levels_on(as_of)).values():
        per_level[level] += 1
    records = await uow.group_records.between(date(year, 1, 1), date(year, 12, 31))
    return investment(clients_per_level=per_level, records=records, ruleset=uow.group_ruleset)


@dataclass(frozen=True, kw_only=True)
class QuarterAssessment:
    year: int
    quarter: int
    branches: list[Assessment]
    account_managers: list[Assessment]
    manager_names: dict[str, str]


async def assessment_of(uow: EntitlementsUnitOfWork, *, year: int, quarter: int) -> QuarterAssessment:
    _, end = quarter_bounds(year, quarter)
    now_levels = await uow.group_clients.levels_on(end)
    before = await uow.group_clients.levels_on(_year_before(end))
    records_by_client: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for row in await uow.group_records.between(date(year, 1, 1), end):
        records_by_client[row["client_id"]].append(row)
    clients = await uow.group_clients.all_clients()
    parts = [
        client_quarter(
            client_id=client.client_id, branch=client.branch,
            manager=client.manager.agent_id if client.manager else None,
            level=now_levels.get(client.client_id), vip_year_before=before.get(client.client_id) is not None,
            year=year, quarter=quarter, records=records_by_client.get(client.client_id, ()), ruleset=uow.group_ruleset,
        )
        for client in clients
        if client.client_id in now_levels or client.client_id in before
    ]
    names = {client.manager.agent_id: client.manager.name for client in clients if client.manager}
    return QuarterAssessment(
        year=year, quarter=quarter, branches=assess(parts, by="branch"), account_managers=assess(parts, by="manager"),
        manager_names=names,
    )


def _year_before(day: date) -> date:
    try:
        return day.replace(year=day.year - 1)
    except ValueError:
        return day.replace(year=day.year - 1, day=28)


async def movements_of(uow: EntitlementsUnitOfWork, *, year: int) -> list[dict[str, int]]:
    """Per quarter: clients becoming VIP, moving up, moving down, leaving VIP (by the levels' rank)."""
    ruleset = uow.group_ruleset
    counts = [{"quarter": number, "became_vip": 0, "up": 0, "down": 0, "left_vip": 0} for number in range(1, 5)]
    for on, previous, level in await uow.group_clients.moves_between(date(year, 1, 1), date(year, 12, 31)):
        row = counts[quarter_of(on) - 1]
        if previous is None and level is not None:
            row["became_vip"] += 1
        elif previous is not None and level is None:
            row["left_vip"] += 1
        elif previous is not None and level is not None and previous != level:
            row["up" if ruleset.level_rank(level) > ruleset.level_rank(previous) else "down"] += 1
    return counts


async def overdue_complaints(uow: EntitlementsUnitOfWork, *, now: datetime) -> int:
    return sum(
        1 for _, received_at in await uow.group_records.open_complaints()
        if is_overdue(received_at=received_at, resolved_at=None, now=now, ruleset=uow.group_ruleset)
    )
