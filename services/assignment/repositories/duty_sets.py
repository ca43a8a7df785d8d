"""The duties' set-based statements: what touches every VIP (or every due item) in one statement.

- A year's holiday items, a chunk of VIPs (a customer-id range) per statement: the fixed occasions
  (the year's dates, computed by `domain.calendar`) and the birthdays (from the CRM profiles) of
  those VIPs, the occasions a customer already has skipped; the year's row in
  `holiday_years` counts the items and is `complete` with the last chunk.
- A campaign's items: one `INSERT ... SELECT` over the VIPs in scope.
- Items becoming overdue: a chunk of the partial index `ix_work_items_falling_due` per statement.
Never a statement per item; each is safe to repeat: `ON CONFLICT DO NOTHING` on (customer, occasion).
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import insert, select, text
from sqlalchemy.ext.asyncio import AsyncConnection

from services.assignment.domain.duties import NewItem
from services.assignment.tables import campaigns, holiday_years

_NEXT_VIPS = text(
    "SELECT max(customer_id) AS last, count(*) AS vips FROM (SELECT customer_id FROM customers "
    "WHERE customer_id > CAST(:after AS text) AND tier IS NOT NULL ORDER BY customer_id LIMIT CAST(:limit AS int)) AS s"
)
_HOLIDAY_ITEMS = text(
    "INSERT INTO work_items (customer_id, duty, occasion, occasion_key, year, opens_on, due_on, channels, agent_id) "
    "SELECT n.customer_id, 'holiday_care', n.occasion, n.occasion_key, CAST(:year AS int), n.opens_on, n.due_on, "
    "CAST(:channels AS varchar[]), n.agent_id FROM ("
    # the year's fixed occasions (dates from domain.calendar) for every VIP of the chunk
    "SELECT c.customer_id, o.occasion, o.occasion_key, o.opens_on, o.due_on, c.representative_id AS agent_id "
    "FROM customers AS c CROSS JOIN unnest(CAST(:keys AS text[]), CAST(:labels AS text[]), "
    "CAST(:opens AS date[]), CAST(:dues AS date[])) AS o(occasion_key, occasion, opens_on, due_on) "
    "WHERE c.customer_id > CAST(:after AS text) AND c.customer_id <= CAST(:last AS text) AND c.tier IS NOT NULL "
    "UNION ALL "
    # their birthdays still ahead, from the CRM profiles
    "SELECT c.customer_id, CAST(:label AS text), CAST(:key AS text), b.day - CAST(:opens_before AS int), "
    "b.day + CAST(:days_allowed AS int), c.representative_id "
    "FROM customers AS c JOIN customer_profiles AS p ON p.customer_id = c.customer_id "
    "CROSS JOIN LATERAL (SELECT CAST(p.birthday + make_interval(years => CAST(:year AS int) - "
    "CAST(extract(year FROM p.birthday) AS int)) AS date) AS day) AS b "
    "WHERE CAST(:birthdays AS boolean) "
    "AND c.customer_id > CAST(:after AS text) AND c.customer_id <= CAST(:last AS text) AND c.tier IS NOT NULL "
    # the same range on the profiles' key: both sides a short range scan, never the whole profiles table
    "AND p.customer_id > CAST(:after AS text) AND p.customer_id <= CAST(:last AS text) "
    "AND p.birthday IS NOT NULL AND b.day + CAST(:days_allowed AS int) >= CAST(:from_date AS date)"
    ") AS n "
    # an item already there (a VIP since the year began, a run resumed) is left as it is
    "ON CONFLICT (customer_id, occasion_key) DO NOTHING"
)
_YEAR_PROGRESS = text(
    "INSERT INTO holiday_years (year, generated_on, items, complete) "
    "VALUES (CAST(:year AS int), CAST(:generated_on AS date), CAST(:items AS int), CAST(:complete AS boolean)) "
    "ON CONFLICT (year) DO UPDATE SET items = holiday_years.items + excluded.items, complete = excluded.complete"
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


@dataclass(frozen=True, slots=True)
class VipChunk:
    """The next VIPs in customer-id order: how many, and the last one's id ("" when none is left)."""

    vips: int
    last: str


@dataclass(frozen=True, slots=True)
class BirthdayItem:
    """The birthday occasion's template: its key and label in the year, its window around the day."""

    key: str
    label: str
    opens_before: int
    days_allowed: int


async def next_vips(connection: AsyncConnection, *, after: str, limit: int) -> VipChunk:
    """Up to `limit` VIPs after customer `after`, through the primary key."""
    row = (await connection.execute(_NEXT_VIPS, {"after": after, "limit": limit})).one()
    return VipChunk(vips=int(row.vips), last=row.last or "")


async def insert_holiday_items(
    connection: AsyncConnection, *, year: int, after: str, last: str, fixed: Sequence[NewItem],
    birthday: BirthdayItem | None, channels: Sequence[str], from_date: date,
) -> int:
    """The holiday items of `year` of the VIPs with an id in (`after`, `last`], in one statement: the
    fixed occasions (each a template item; its customer is ignored) crossed with those VIPs, and their
    birthdays still ahead on `from_date` (29 February falls on 28 February in a common year, as
    `date + interval` does). An occasion a customer already has is skipped by `ON CONFLICT DO
    NOTHING`: always one probe of the unique index per row, whatever the statistics say. (An anti-join
    `NOT EXISTS` was measured as the alternative: its plan follows the table's statistics, and with the
    table analyzed while small it scanned `work_items` for every chunk; hardly faster when it probed.)
    Returns the items added."""
    result = await connection.execute(
        _HOLIDAY_ITEMS,
        {
            "year": year, "after": after, "last": last, "channels": sorted(channels),
            "keys": [item.occasion_key for item in fixed], "labels": [item.occasion for item in fixed],
            "opens": [item.opens_on for item in fixed], "dues": [item.due_on for item in fixed],
            "birthdays": birthday is not None, "key": birthday.key if birthday else "",
            "label": birthday.label if birthday else "", "opens_before": birthday.opens_before if birthday else 0,
            "days_allowed": birthday.days_allowed if birthday else 0, "from_date": from_date,
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
    """True once the year's last chunk is written; a run stopped half-way leaves it False."""
    found = await connection.execute(select(holiday_years.c.complete).where(holiday_years.c.year == year))
    return bool(found.scalar())


async def record_year_progress(
    connection: AsyncConnection, *, year: int, generated_on: date, items: int, complete: bool
) -> None:
    """Adds a chunk's items to the year's count; `complete` with its last chunk."""
    await connection.execute(
        _YEAR_PROGRESS, {"year": year, "generated_on": generated_on, "items": items, "complete": complete}
    )


async def commit_without_waiting(connection: AsyncConnection) -> None:
    """This transaction's commit does not wait for the WAL flush. For a job that is safe to redo (a lost
    commit is done again by the next run), never for what the platform has told anyone about."""
    await connection.execute(text("SET LOCAL synchronous_commit = off"))


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
