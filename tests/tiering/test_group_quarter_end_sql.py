"""The quarter-end evaluation in SQL gives exactly what the pure rules give (rules.md section 9).

`workflows.group_levels.quarter_end_evaluated` evaluates a chunk in one statement; the reference is the
per-client path every other evaluation takes (`evaluate_client`: `domain.group.evaluate`, the
approval's expiry, `settle`). Both run on the same generated clients, each in a transaction rolled
back afterwards, against the real embedded PostgreSQL; the stored clients, the evaluations (inputs and
reasons included) and the published `GroupLevelDecided` (byte for byte) must be equal. The clients are
drawn to reach every band edge of every table, 29 February, approvals expiring on the date, no in-force
policy, experience after the date and claims against no premium, and clients not due (unknown, or
already evaluated on or after the date).
"""

import random
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from functools import partial
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from services.tiering.config import TieringSettings
from services.tiering.domain.group import ExperiencePeriod, quarter_end
from services.tiering.domain.group_state import GroupClientState
from services.tiering.main import MIGRATIONS_DIR
from services.tiering.repositories import TieringUnitOfWork
from services.tiering.workflows.group_levels import QUARTER_END, evaluate_client, quarter_end_evaluated
from shared.daily_run import ChunkDone, DailyRun
from shared.db import Transactions, create_engine
from shared.events.ids import derive_event_id
from shared.group_ruleset import GroupRuleset, load_group_ruleset
from shared.migrations import upgrade_to_head
from shared.ruleset import load_ruleset
from shared.settings import DEFAULT_GROUP_RULESET_PATH, DEFAULT_RULESET_PATH

GROUP = load_group_ruleset(DEFAULT_GROUP_RULESET_PATH)
Db = Transactions[TieringUnitOfWork]
CENT = Decimal("0.01")


@pytest.fixture
async def transactions(database_url: str) -> AsyncIterator[Db]:
    db: Db = Transactions(
        engine=create_engine(settings=TieringSettings(database_url=database_url)),
        make_unit_of_work=partial(
            TieringUnitOfWork, ruleset=load_ruleset(DEFAULT_RULESET_PATH), group_ruleset=GROUP
        ),
    )
    await upgrade_to_head(engine=db.engine, migrations_dir=MIGRATIONS_DIR)
    yield db
    await db.engine.dispose()


def _edges(bands: Any) -> list[Decimal]:
    """Each band's lower edge and the figure just below it."""
    return [figure for band in bands for figure in (band.lower, max(band.lower - CENT, Decimal(0)))]


def _day(rng: random.Random, *, around: date, days: int) -> date:
    return around + timedelta(days=rng.randint(-days, days))


def _experience(rng: random.Random, *, as_of: date) -> tuple[ExperiencePeriod, ...]:
    periods = []
    for _ in range(rng.choice([0, 1, 2, 4, 5, 6])):
        end = rng.choice([as_of, as_of - timedelta(days=91), as_of - timedelta(days=182), as_of + timedelta(days=92),
                          _day(rng, around=as_of, days=500)])
        earned = rng.choice([Decimal("0.00"), Decimal("100000.00"), Decimal("20000.00"), Decimal("3.00"),
                             Decimal(rng.randint(1, 10**9)) * CENT])
        ratio_edges = [Decimal(0), Decimal("0.4"), Decimal("0.7"), Decimal("1.0"), Decimal("0.00005")]
        incurred = rng.choice(
            [Decimal("0.00"), Decimal("1.00"), Decimal(rng.randint(1, 10**9)) * CENT]
            + [(earned * edge).quantize(CENT) for edge in ratio_edges]
        )
        periods.append(ExperiencePeriod(
            period_start=end - timedelta(days=90), period_end=end, earned_premium=earned, incurred_claims=incurred
        ))
    return tuple(periods)


def _client(rng: random.Random, number: int, *, as_of: date, ruleset: GroupRuleset) -> GroupClientState:
    levels = [band.level for band in ruleset.levels]
    since = rng.choice([
        None, date(2016, 2, 29), date(2020, 2, 29), as_of.replace(year=as_of.year - 4),
        as_of.replace(year=as_of.year - 8) + timedelta(days=1), as_of, as_of + timedelta(days=3),
        _day(rng, around=as_of - timedelta(days=3650), days=3650),
    ])
    premium = rng.choice([*_edges(ruleset.scale.bands), Decimal(rng.randint(0, 10**9)) * CENT])
    evaluated_on = rng.choice([None, None, as_of - timedelta(days=92), as_of, as_of + timedelta(days=1)])
    approved = rng.choice([None, None, *levels[1:]])
    return GroupClientState(
        client_id=f"K{number:05d}",
        scored_revision=rng.choice([0, 1, 1, 3]),
        branch=rng.choice(["GD-SZ", "BJ-01", None]),
        client_since=since,
        annual_standard_premium=premium,
        in_force_policies=rng.choice([0, 1, 1, 12]),
        experience=_experience(rng, as_of=as_of),
        feedback_revision=rng.randint(0, 3),
        verified_complaints=rng.choice([0, 0, 1, 2, 3, 9]),
        survey_average=rng.choice([None, Decimal("3.9999"), ruleset.loyalty.survey_level, Decimal("5")]),
        survey_on=rng.choice([None, as_of - timedelta(days=40)]),
        evaluated_level=rng.choice(levels) if evaluated_on else None,
        score=Decimal(rng.randint(0, 30000)) / 10000 if evaluated_on else Decimal(0),
        scale=rng.choice([Decimal("0.8"), Decimal("1.2")]) if evaluated_on else Decimal(0),
        loyalty=rng.choice([Decimal("1.05"), Decimal("0.9")]) if evaluated_on else Decimal(0),
        profit=rng.choice([Decimal("1.0"), Decimal("0.6")]) if evaluated_on else Decimal(0),
        evaluated_on=evaluated_on,
        approved_level=approved,
        approved_expires_on=rng.choice([None, as_of, as_of - timedelta(days=1), as_of + timedelta(days=1)])
        if approved else None,
        approved_application=rng.choice([f"A{number}", f"A{number}", None]) if approved else None,
        level=rng.choice(levels),
        reason="as stored",
        revision=rng.randint(0, 7),
    )


async def _stored(transactions: Db, clients: list[GroupClientState]) -> None:
    async with transactions.begin() as uow:
        await uow.group_clients.lock(client.client_id for client in clients)
        for client in clients:
            uow.group_clients.save(client)


async def _outcome(connection: AsyncConnection, uow: TieringUnitOfWork) -> dict[str, Any]:
    await uow.flush()
    clients = await connection.execute(text("SELECT * FROM group_clients ORDER BY client_id"))
    evaluations = await connection.execute(text(
        "SELECT client_id, evaluated_on, trigger, level, score, scale, loyalty, profit, inputs, ruleset_version,"
        " reason FROM group_evaluations ORDER BY client_id, id"
    ))
    return {
        "clients": [{k: v for k, v in row._mapping.items() if k != "updated_at"} for row in clients],
        "evaluations": [dict(row._mapping) for row in evaluations],
        "published": [event.model_dump_json() for event in uow.published],
    }


async def _by_the_rules(transactions: Db, *, as_of: date, ruleset: GroupRuleset) -> dict[str, Any]:
    """The reference: every due client through `evaluate_client`, in client-id order (rolled back)."""
    async with transactions.engine.connect() as connection, connection.begin() as transaction:
        uow = TieringUnitOfWork(connection, ruleset=load_ruleset(DEFAULT_RULESET_PATH), group_ruleset=ruleset)
        ids = list((await connection.execute(text("SELECT client_id FROM group_clients ORDER BY 1"))).scalars())
        await uow.group_clients.lock(ids)
        occurred_at = datetime.combine(as_of, time.min, tzinfo=ruleset.zone)
        correlation_id = derive_event_id("group_quarter_end", as_of.isoformat())
        for client_id in ids:
            stored = await uow.group_clients.get(client_id)
            if not stored.known or (stored.evaluated_on is not None and stored.evaluated_on >= as_of):
                continue
            _, _, published = await evaluate_client(
                uow, stored, as_of=as_of, trigger=QUARTER_END, occurred_at=occurred_at,
                correlation_id=correlation_id,
            )
            uow.publish(published)
        outcome = await _outcome(connection, uow)
        await transaction.rollback()
    return outcome


async def _in_sql(transactions: Db, *, as_of: date, ruleset: GroupRuleset, chunk: int) -> dict[str, Any]:
    """The daily run's step, chunk after chunk in one transaction (rolled back). Off a quarter end
    (where the step does nothing) the repository's statement alone, its returned clients as `published`."""
    async with transactions.engine.connect() as connection, connection.begin() as transaction:
        uow = TieringUnitOfWork(connection, ruleset=load_ruleset(DEFAULT_RULESET_PATH), group_ruleset=ruleset)
        run = DailyRun(as_of=as_of, started_at=datetime(2026, 1, 1, tzinfo=ruleset.zone), run_by="test")
        after, returned = "", []
        while True:
            if quarter_end(as_of):
                done = await quarter_end_evaluated(uow, run=run, after=after, limit=chunk)
            else:
                due = await uow.group_clients.due_for_evaluation(as_of=as_of, after=after, limit=chunk)
                returned += await uow.group_clients.evaluate_in_bulk(
                    due, as_of=as_of, trigger=QUARTER_END, ruleset=ruleset
                )
                done = ChunkDone(looked_at=len(due), changed=0, last_key=due[-1] if due else "")
            if done.looked_at < chunk:
                break
            after = done.last_key
        outcome = await _outcome(connection, uow) | {"returned": returned}
        await transaction.rollback()
    return outcome


@pytest.mark.parametrize("seed", [1, 2])
@pytest.mark.parametrize("as_of", [date(2026, 12, 31), date(2028, 3, 31), date(2025, 6, 30)])
async def test_the_sql_evaluation_equals_the_rules(transactions: Db, as_of: date, seed: int) -> None:
    rng = random.Random(f"{seed}/{as_of}")
    await _stored(transactions, [_client(rng, number, as_of=as_of, ruleset=GROUP) for number in range(400)])

    expected = await _by_the_rules(transactions, as_of=as_of, ruleset=GROUP)
    actual = await _in_sql(transactions, as_of=as_of, ruleset=GROUP, chunk=64)

    assert len(expected["evaluations"]) > 150 and len(expected["published"]) > 150
    assert actual["evaluations"] == expected["evaluations"]
    assert actual["clients"] == expected["clients"]
    assert actual["published"] == expected["published"]


async def test_the_sql_evaluation_reads_every_number_from_the_ruleset(transactions: Db) -> None:
    """Other tables (more bands, other steps and bounds, two quarters, another neutral) agree too."""
    document = GROUP.model_dump(by_alias=True)
    document["scale"]["bands"] = [
        {"from": "0", "to": "50000", "coefficient": "0.55"}, {"from": "50000", "to": "300000", "coefficient": "0.95"},
        {"from": "300000", "coefficient": "1.75"},
    ]
    document["loyalty"] |= {"complaint_step": "0.125", "survey_step": "0.3", "survey_level": "4.5",
                            "minimum": "0.65", "maximum": "1.4"}
    document["profit"] |= {"neutral": "0.85", "quarters": 2}
    document["levels"][1]["to"] = document["levels"][2]["from"] = "1.1"
    other = GroupRuleset.model_validate(document | {"version": "group-other.2"})
    as_of = date(2026, 9, 30)
    rng = random.Random("other")
    await _stored(transactions, [_client(rng, number, as_of=as_of, ruleset=other) for number in range(200)])

    expected = await _by_the_rules(transactions, as_of=as_of, ruleset=other)
    actual = await _in_sql(transactions, as_of=as_of, ruleset=other, chunk=500)

    assert {key: actual[key] for key in expected} == expected


@pytest.mark.parametrize("as_of", [date(2027, 2, 28), date(2028, 2, 28), date(2028, 2, 29)])
async def test_the_sql_evaluation_counts_whole_years_as_the_rules_do(transactions: Db, as_of: date) -> None:
    """Off a quarter end (an on-demand date), where a 29 February start has its anniversary."""
    rng = random.Random(f"years/{as_of}")
    clients = [_client(rng, number, as_of=as_of, ruleset=GROUP) for number in range(120)]
    starts = [date(2016, 2, 29), date(2024, 2, 29), date(2020, 3, 1)] * 40
    leap = [
        replace(client, client_id=f"L{client.client_id}", client_since=since, scored_revision=1, evaluated_on=None)
        for client, since in zip(clients, starts, strict=True)
    ]
    await _stored(transactions, clients + leap)

    expected = await _by_the_rules(transactions, as_of=as_of, ruleset=GROUP)
    actual = await _in_sql(transactions, as_of=as_of, ruleset=GROUP, chunk=100)

    assert actual["evaluations"] == expected["evaluations"]
    assert actual["clients"] == expected["clients"]
    changed = {state["client_id"]: state for state in expected["clients"]}
    assert [(c.client_id, c.level, c.score, c.reason, c.revision) for c in actual["returned"]] == [
        (c.client_id, changed[c.client_id]["level"], changed[c.client_id]["score"], changed[c.client_id]["reason"],
         changed[c.client_id]["revision"]) for c in actual["returned"]
    ]
    assert len(actual["returned"]) == len(expected["published"])
