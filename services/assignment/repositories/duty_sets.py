"""The duties' set-based statements: what touches every VIP (or every due item) in one statement.

- A year's holiday items for every VIP: one `INSERT ... SELECT` for the fixed occasions (the VIPs
  crossed with the year's dates, computed by `domain.calendar`) and one for the birthdays (joined to
  the CRM profiles; 29 February falls on 28 February in a common year, as `date + interval` does).
- A campaign's items: one `INSERT ... SELECT` over the VIPs in scope.
- Items becoming overdue: a chunk of the partial index `ix_work_items_falling_due` per statement.
Never a statement per item; `ON CONFLICT DO NOTHING` on (customer, occasion) makes each safe to repeat.
"""

from collections.abc import Sequence
from datetime import date
from typing import Any

from sqlalchemy import insert, select, text
from sqlalchemy.ext.asyncio import AsyncConnection

from services.assignment.domain.duties import NewItem
from services.assignment.tables import campaigns, holiday_years

_FIXED_OCCASIONS = text(
    "INSERT INTO work_items (customer_id, duty, occasion, occasion_key, year, opens_on, due_on, channels, agent_id) "
    "SELECT c.customer_id, 'holiday_care', o.occasion, o.occasion_key, CAST(:year AS int), o.opens_on, o.due_on, "
    "CAST(:channels AS varchar[]), c.representative_id "
    "FROM customers AS c CROSS JOIN unnest(CAST(:keys AS text[]), CAST(:labels AS text[]), "
    "CAST(:opens AS date[]), CAST(:dues AS date[])) AS o(occasion_key, occasion, opens_on, due_on) "
    "WHERE c.tier IS NOT NULL "
    "ON CONFLICT (customer_id, occasion_key) DO NOTHING"
)
_BIRTHDAYS = text(
    "INSERT INTO work_items (customer_id, duty, occasion, occasion_key, year, opens_on, due_on, channels, agent_id) "
    "SELECT c.customer_id, 'holiday_care', CAST(:label AS text), CAST(:key AS text), CAST(:year AS int), "
    "b.day - CAST(:opens_before AS int), b.day + CAST(:days_allowed AS int), "
    "CAST(:channels AS varchar[]), c.representative_id "
    "FROM customers AS c JOIN customer_profiles AS p ON p.customer_id = c.customer_id "
    "CROSS JOIN LATERAL (SELECT CAST(p.birthday + make_interval(years => CAST(:year AS int) - "
    "CAST(extract(year FROM p.birthday) AS int)) AS date) AS day) AS b "
    "WHERE c.tier IS NOT NULL AND p.birthday IS NOT NULL "
    "AND b.day + CAST(:days_allowed AS int) >= CAST(:from_date AS date) "
    "ON CONFLICT (customer_id, occasion_key) DO NOTHING"
)
_CAMPAIGN_ITEMS = text(
    "INSERT INTO work_items "
    "(customer_id, duty, occasion, occasion_key, year, opens_on, due_on, channels, agent_id, campaign_id) "
    "SELECT c.customer_id, CAST(:duty AS text), CAST(:label AS text), CAST(:key AS text), CAST(:year AS int), "
    "CAST(:opens_on AS date), CAST(:due_on AS date), CAST(:channels AS varchar[]), "
    "c.representative_id, CAST(:campaign_id AS bigint) "
    "FROM customers AS c LEFT JOIN customer_profiles AS p ON p.customer_id = c.customer_id "
    "WHERE c.tier IS NOT NULL "
    "AND (CAST(:channel AS text) IS NULL OR c.serving_channel = CAST(:channel AS text)) "
    "AND (CAST(:branch AS text) IS NULL OR coalesce(c.branch, p.branch) = CAST(:branch AS text)) "
    "ON CONFLICT (customer_id, occasion_key) DO NOTHING"
)
_OVERDUE = text(
    "UPDATE work_items SET state = 'overdue', updated_at = now() WHERE item_id IN ("
    "SELECT item_id FROM work_items WHERE state = 'open' AND due_on < CAST(:as_of AS date) "
    "ORDER BY due_on LIMIT CAST(:limit AS int))"
)


async def insert_fixed_occasions(connection: AsyncConnection, *, year: int, occasions: Sequence[NewItem]) -> int:
    """The fixed occasions of `year` (each a template item; its customer is ignored) for every VIP.
    Returns the items added."""
    if not occasions:
        return 0
    result = await connection.execute(
        _FIXED_OCCASIONS,
        {
            "year": year,
            "channels": sorted(channel.value for channel in occasions[0].channels),
            "keys": [item.occasion_key for item in occasions],
            "labels": [item.occasion for item in occasions],
            "opens": [item.opens_on for item in occasions],
            "dues": [item.due_on for item in occasions],
        },
    )
    return _count(result)


async def insert_birthdays(
    connection: AsyncConnection, *, year: int, key: str, label: str, opens_before: int, days_allowed: int,
    channels: Sequence[str], from_date: date,
) -> int:
    """Every VIP's birthday item of `year` still ahead on `from_date`, from the CRM birthdays."""
    result = await connection.execute(
        _BIRTHDAYS,
        {
            "year": year, "key": key, "label": label, "opens_before": opens_before, "days_allowed": days_allowed,
            "channels": sorted(channels), "from_date": from_date,
        },
    )
    return _count(result)


async def insert_campaign_items(
    connection: AsyncConnection, *, campaign_id: int, template: NewItem, channel: str | None, branch: str | None
) -> int:
    """One item of the campaign for every VIP of its scope: all, a serving channel, or a branch (the
    customer's as tiering decides it, else the CRM profile's)."""
    result = await connection.execute(
        _CAMPAIGN_ITEMS,
        {
            "campaign_id": campaign_id, "duty": template.duty.value, "label": template.occasion,
            "key": template.occasion_key, "year": template.year, "opens_on": template.opens_on,
            "due_on": template.due_on, "channels": sorted(each.value for each in template.channels),
            "channel": channel, "branch": branch,
        },
    )
    return _count(result)


async def mark_overdue(connection: AsyncConnection, *, as_of: date, limit: int) -> int:
    """Up to `limit` open items due before `as_of` become overdue (the earliest due first)."""
    return _count(await connection.execute(_OVERDUE, {"as_of": as_of, "limit": limit}))


async def year_generated(connection: AsyncConnection, year: int) -> bool:
    found = await connection.execute(select(holiday_years.c.year).where(holiday_years.c.year == year))
    return found.first() is not None


async def record_year(connection: AsyncConnection, *, year: int, generated_on: date, items: int) -> None:
    await connection.execute(insert(holiday_years).values(year=year, generated_on=generated_on, items=items))


def _count(result: Any) -> int:
    return int(result.rowcount or 0)


async def insert_campaign(connection: AsyncConnection, *, row: dict[str, Any]) -> int:
    """The campaign's row (its columns but the id); returns the new campaign id."""
    found = await connection.execute(insert(campaigns).values(**row).returning(campaigns.c.campaign_id))
    return int(found.scalar_one())


async def set_campaign_items(connection: AsyncConnection, *, campaign_id: int, items: int) -> None:
    await connection.execute(campaigns.update().where(campaigns.c.campaign_id == campaign_id).values(items=items))


async def list_campaigns(connection: AsyncConnection, *, limit: int, offset: int) -> list[dict[str, Any]]:
    statement = select(campaigns).order_by(campaigns.c.campaign_id.desc()).limit(limit).offset(offset)
    return [dict(row._mapping) for row in (await connection.execute(statement)).all()]
