"""The year's holiday items, a chunk of VIPs at a time, against the real embedded PostgreSQL: every VIP
gets each occasion once whatever the chunk size, a run stopped half-way is resumed by the next, a run
of the same year adds nothing, and an item a VIP already has (made when they became VIP) stays as it is.
"""

from datetime import UTC, date, datetime
from functools import partial

from sqlalchemy import func, insert, select

from services.assignment.config import AssignmentSettings
from services.assignment.main import MIGRATIONS_DIR
from services.assignment.repositories import AssignmentUnitOfWork
from services.assignment.tables import customer_profiles, customers, holiday_years, work_items
from services.assignment.workflows.duties import DUTY_STEPS, generate_holiday_year
from shared.daily_run import DailyRun, drive_daily_run
from shared.db import Transactions, create_engine
from shared.migrations import upgrade_to_head
from shared.ruleset import load_ruleset
from shared.settings import DEFAULT_RULESET_PATH

Db = Transactions[AssignmentUnitOfWork]
HOLIDAY_STEP = next(step for step in DUTY_STEPS if step.name == "holiday_items_generated")
VIPS = [f"C{number:03d}" for number in range(1, 8)]


async def _database(database_url: str) -> Db:
    db: Db = Transactions(
        engine=create_engine(settings=AssignmentSettings(database_url=database_url)),
        make_unit_of_work=partial(AssignmentUnitOfWork, ruleset=load_ruleset(DEFAULT_RULESET_PATH)),
    )
    await upgrade_to_head(engine=db.engine, migrations_dir=MIGRATIONS_DIR)
    async with db.engine.begin() as connection:
        await connection.execute(insert(customers), [
            {"customer_id": customer_id, "tier_revision": 1, "tier": None if customer_id == "C004" else "gold",
             "policies": [], "service_person_ids": [], "representative_id": "A1"}
            for customer_id in VIPS
        ])
        await connection.execute(insert(customer_profiles), [
            {"customer_id": customer_id, "name": "Li Lei", "birthday": date(1970, 12, 20) if customer_id != "C002"
             else None, "branch": "GD-SZ", "profile_at": datetime(2026, 1, 1, tzinfo=UTC)}
            for customer_id in VIPS
        ])
        # C003 became VIP in the new year before the run and has done its Spring Festival already
        await connection.execute(insert(work_items).values(
            customer_id="C003", duty="holiday_care", occasion="Spring Festival 2027",
            occasion_key="holiday:spring_festival:2027", year=2027, opens_on=date(2027, 1, 30),
            due_on=date(2027, 2, 6), channels=["visit"], agent_id="A1", state="done", done_on=date(2027, 2, 1),
        ))
    return db


def _run(as_of: date) -> DailyRun:
    return DailyRun(as_of=as_of, started_at=datetime.now(UTC), run_by="test")


async def _items(db: Db, year: int) -> list[tuple[str, str, str]]:
    async with db.engine.connect() as connection:
        rows = await connection.execute(
            select(work_items.c.customer_id, work_items.c.occasion_key, work_items.c.state)
            .where(work_items.c.year == year).order_by(work_items.c.customer_id, work_items.c.occasion_key)
        )
    return [tuple(row) for row in rows]


async def test_every_vip_gets_each_occasion_once_in_chunks_and_a_stopped_run_is_resumed(database_url: str) -> None:
    db = await _database(database_url)
    try:
        # a run stopped after its first chunk (VIPs C001 and C002): the year is not complete
        async with db.begin() as uow:
            first = await generate_holiday_year(uow, run=_run(date(2027, 1, 1)), after="", limit=2)
        assert (first.looked_at, first.last_key) == (2, "C002")
        async with db.engine.connect() as connection:
            assert (await connection.execute(select(holiday_years.c.complete))).scalar_one() is False

        changed = await drive_daily_run(transactions=db, run=_run(date(2027, 1, 1)), steps=[HOLIDAY_STEP], chunk_size=2)
        items = await _items(db, 2027)
        keys = {(customer_id, key) for customer_id, key, _ in items}
        assert len(keys) == len(items)  # each occasion once
        vips = [customer_id for customer_id in VIPS if customer_id != "C004"]
        # six occasions each, but no birthday without a CRM birthday (C002)
        assert len(items) == 6 * len(vips) - 1
        assert ("C004", "holiday:spring_festival:2027") not in keys
        assert ("C003", "holiday:spring_festival:2027", "done") in items  # left as it was
        assert changed[HOLIDAY_STEP.name] == len(items) - 1 - first.changed
        async with db.engine.connect() as connection:
            year = (await connection.execute(select(holiday_years))).one()
        assert (year.complete, year.items) == (True, len(items) - 1)

        # the same year again, and a later run in it, add nothing
        for as_of in (date(2027, 1, 1), date(2027, 3, 1)):
            again = await drive_daily_run(transactions=db, run=_run(as_of), steps=[HOLIDAY_STEP], chunk_size=2)
            assert again[HOLIDAY_STEP.name] == 0
        assert len(await _items(db, 2027)) == len(items)

        # a first run dated in the middle of a year generates only the occasions still ahead
        await drive_daily_run(transactions=db, run=_run(date(2028, 11, 1)), steps=[HOLIDAY_STEP], chunk_size=3)
        later = await _items(db, 2028)
        assert {key for _, key, _ in later} == {"holiday:birthday:2028"}
        async with db.engine.connect() as connection:
            counted = (await connection.execute(
                select(func.count()).select_from(work_items).where(work_items.c.year == 2028)
            )).scalar_one()
        assert counted == len(vips) - 1
    finally:
        await db.engine.dispose()
