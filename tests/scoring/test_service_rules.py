"""Scoring's rules through its public interfaces: policy events in on the real broker, scores out on
`vip.customer-scores.v1`, explanations and the daily run over HTTP, state in the real PostgreSQL."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import date
from decimal import Decimal
from typing import Any

import httpx
from sqlalchemy import text
from sqlalchemy.dialects import postgresql
from sqlalchemy.ext.asyncio import create_async_engine

from services.scoring.config import ScoringSettings
from services.scoring.main import create_app
from services.scoring.repositories.customers import due_statement
from shared.events.inbound import POLICY_EVENT_TYPES
from shared.topics import CUSTOMER_SCORES, POLICY_EVENTS
from tests.builders.policies import policy_event
from tests.support import Record, auth, eventually, fresh_id, publish, read_topic, running, service_settings

AFTER_COOLING_OFF = "2026-10-08T10:00:00+08:00"
"""The default test policy is issued 2026-09-01; its cooling-off's last day is 2026-09-16, its points
count from 2026-09-17."""
IN_COOLING_OFF = "2026-09-01T10:00:00+08:00"


@asynccontextmanager
async def scoring(
    database_url: str, bootstrap_servers: str, api_tokens: dict[str, str]
) -> AsyncIterator[httpx.AsyncClient]:
    settings = service_settings(
        ScoringSettings, database_url=database_url, bootstrap_servers=bootstrap_servers, tokens=api_tokens
    )
    async with running(create_app(settings), port=settings.http_port) as client:
        yield client


async def send(bootstrap_servers: str, *events: dict[str, Any]) -> None:
    await publish(bootstrap_servers, POLICY_EVENTS, [(event["policy"]["policy_no"], event) for event in events])


async def scores(bootstrap_servers: str, *, expect: int, timeout_s: float = 20) -> list[dict[str, Any]]:
    records: list[Record] = await read_topic(bootstrap_servers, CUSTOMER_SCORES, expect=expect, timeout_s=timeout_s)
    return [record.json() for record in records]


def latest_by_customer(bodies: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    latest: dict[str, dict[str, Any]] = {}
    for body in bodies:
        if body["revision"] > latest.get(body["customer_id"], {"revision": 0})["revision"]:
            latest[body["customer_id"]] = body
    return latest


async def daily_run(client: httpx.AsyncClient, token: str, as_of: str) -> httpx.Response:
    return await client.post("/v1/daily-runs", json={"as_of": as_of}, headers=auth(token))


# --- every policy event type goes through the policy's new state --------------------------------------

# event type -> (state before, state after, expected points after)
EVERY_EVENT_TYPE: dict[str, tuple[dict[str, Any], dict[str, Any], str]] = {
    "new_business": ({}, {}, "36000.00"),
    "additional_premium": ({}, {"modal_premium": "48000.00"}, "48000.00"),
    "sum_insured_increase": ({}, {"modal_premium": "40000.00"}, "40000.00"),
    "supplementary_disclosure": ({}, {"modal_premium": "38000.00"}, "38000.00"),
    "premium_loading": ({}, {"modal_premium": "39000.00"}, "39000.00"),
    "reinstatement": ({"status": "lapsed"}, {"status": "in_force"}, "36000.00"),
    "surrender": ({}, {"status": "surrendered"}, "0.00"),
    "partial_surrender": ({}, {"modal_premium": "18000.00"}, "18000.00"),
    "lapse": ({}, {"status": "lapsed"}, "0.00"),
    "maturity": ({}, {"status": "matured"}, "0.00"),
    "annuity_payout": ({}, {"annuity_converted_premium": "6000.00"}, "30000.00"),
    "survival_benefit_paid": ({}, {}, "36000.00"),
    "dividend_paid": ({}, {}, "36000.00"),
    "premium_waiver": ({}, {"premium_waived": True}, "0.00"),
    "reduced_paid_up": ({}, {"paid_up": True}, "0.00"),
    "cooling_off_cancellation": ({}, {"status": "cancelled"}, "0.00"),
    "policy_loan": ({}, {"loan_outstanding": "5000.00"}, "0.00"),
    "loan_repaid": ({"loan_outstanding": "5000.00"}, {"loan_outstanding": "0.00"}, "36000.00"),
    "termination": ({}, {"status": "terminated"}, "0.00"),
    "beneficiary_change": ({}, {}, "36000.00"),
    "account_value_update": (
        {"product_type": "universal", "account_value": "100000.00"},
        {"product_type": "universal", "account_value": "200000.00"},
        "16000.00",
    ),
}


async def test_every_policy_event_type_rescores_the_holder_from_the_new_state(
    database_url: str, bootstrap_servers: str, api_tokens: dict[str, str]
) -> None:
    assert set(EVERY_EVENT_TYPE) | {"policyholder_change", "policy_reconciled"} == set(POLICY_EVENT_TYPES)
    customers = {event_type: fresh_id("C") for event_type in EVERY_EVENT_TYPE}
    events = []
    for event_type, (before, after, _) in EVERY_EVENT_TYPE.items():
        policy_no = fresh_id("P")
        customer = customers[event_type]
        events.append(policy_event(policy_no=policy_no, holder_id=customer, occurred_at=AFTER_COOLING_OFF, **before))
        events.append(
            policy_event(
                policy_no=policy_no,
                holder_id=customer,
                event_type=event_type,
                version=2,
                occurred_at=AFTER_COOLING_OFF,
                **(before | after),
            )
        )
    async with scoring(database_url, bootstrap_servers, api_tokens):
        await send(bootstrap_servers, *events)
        published = await scores(bootstrap_servers, expect=len(events))

    assert len(published) == len(events)
    latest = latest_by_customer(published)
    for event_type, (_, _, expected) in EVERY_EVENT_TYPE.items():
        body = latest[customers[event_type]]
        assert (event_type, Decimal(body["points"])) == (event_type, Decimal(expected))
        assert body["trigger"] == event_type
        assert body["revision"] == 2


async def test_payouts_never_add_points(database_url: str, bootstrap_servers: str, api_tokens: dict[str, str]) -> None:
    customer, policy_no = fresh_id("C"), fresh_id("P")
    events = [policy_event(policy_no=policy_no, holder_id=customer, occurred_at=AFTER_COOLING_OFF)]
    for version, payout in enumerate(("annuity_payout", "survival_benefit_paid", "dividend_paid"), start=2):
        events.append(
            policy_event(
                policy_no=policy_no,
                holder_id=customer,
                event_type=payout,
                version=version,
                occurred_at=AFTER_COOLING_OFF,
            )
        )
    async with scoring(database_url, bootstrap_servers, api_tokens):
        await send(bootstrap_servers, *events)
        published = await scores(bootstrap_servers, expect=4)

    assert [(body["trigger"], body["points"]) for body in published] == [
        ("new_business", "36000.00"),
        ("annuity_payout", "36000.00"),
        ("survival_benefit_paid", "36000.00"),
        ("dividend_paid", "36000.00"),
    ]


# --- policyholder change ------------------------------------------------------------------------------


async def test_a_policyholder_change_moves_the_points_to_the_new_holder_in_one_step(
    database_url: str, bootstrap_servers: str, api_tokens: dict[str, str]
) -> None:
    old, new, policy_no = fresh_id("C"), fresh_id("C"), fresh_id("P")
    keeps = fresh_id("P")
    first = policy_event(policy_no=policy_no, holder_id=old, occurred_at=AFTER_COOLING_OFF)
    other = policy_event(policy_no=keeps, holder_id=old, occurred_at=AFTER_COOLING_OFF, modal_premium="1000.00")
    change = policy_event(
        policy_no=policy_no,
        holder_id=new,
        event_type="policyholder_change",
        version=2,
        previous_holder_id=old,
        occurred_at=AFTER_COOLING_OFF,
    )
    async with scoring(database_url, bootstrap_servers, api_tokens) as client:
        await send(bootstrap_servers, first, other)
        await scores(bootstrap_servers, expect=2)
        await send(bootstrap_servers, change)
        published = await scores(bootstrap_servers, expect=4)
        old_view = (await client.get(f"/v1/customers/{old}/points", headers=auth(api_tokens["ops"]))).json()
        new_view = (await client.get(f"/v1/customers/{new}/points", headers=auth(api_tokens["ops"]))).json()

    moved = [body for body in published if body["correlation_id"] == change["event_id"]]
    assert {body["customer_id"]: body["points"] for body in moved} == {old: "1000.00", new: "36000.00"}
    assert all(body["trigger"] == "policyholder_change" for body in moved)
    assert [policy["policy_no"] for policy in old_view["policies"]] == [keeps]
    assert [policy["policy_no"] for policy in new_view["policies"]] == [policy_no]
    assert new_view["points"] == "36000.00" and old_view["points"] == "1000.00"


# --- stale versions -----------------------------------------------------------------------------------


async def test_a_stale_version_has_no_effect_and_is_recorded(
    database_url: str, bootstrap_servers: str, api_tokens: dict[str, str]
) -> None:
    customer, policy_no = fresh_id("C"), fresh_id("P")
    current = policy_event(
        policy_no=policy_no, holder_id=customer, version=3, occurred_at=AFTER_COOLING_OFF, modal_premium="50000.00"
    )
    older = policy_event(
        policy_no=policy_no,
        holder_id=customer,
        event_type="surrender",
        version=2,
        occurred_at=AFTER_COOLING_OFF,
        status="surrendered",
    )
    same = policy_event(
        policy_no=policy_no,
        holder_id=customer,
        event_type="lapse",
        version=3,
        occurred_at=AFTER_COOLING_OFF,
        status="lapsed",
    )
    async with scoring(database_url, bootstrap_servers, api_tokens) as client:
        await send(bootstrap_servers, current, older, same)
        published = await scores(bootstrap_servers, expect=2, timeout_s=5)

        async def stale_recorded() -> dict[str, Any] | None:
            response = await client.get(f"/v1/customers/{customer}/points", headers=auth(api_tokens["call_center"]))
            body: dict[str, Any] = response.json()
            return body if body["policies"][0]["stale_events_ignored"] == 2 else None

        view = await eventually(stale_recorded, what="two stale events recorded")
        metrics = (await client.get("/metrics")).text

    assert [body["points"] for body in published] == ["50000.00"]
    assert view["points"] == "50000.00"
    assert view["policies"][0]["last_stale_version"] == 3
    assert view["policies"][0]["state"] == "counted"
    assert 'vip_events_stale_total{topic="pas.policy-events"} 2.0' in metrics


# --- cooling-off and the daily run --------------------------------------------------------------------


async def test_pending_points_count_from_the_daily_run_of_the_day_after_the_cooling_offs_last_day(
    database_url: str, bootstrap_servers: str, api_tokens: dict[str, str]
) -> None:
    customer = fresh_id("C")
    event = policy_event(policy_no=fresh_id("P"), holder_id=customer, occurred_at=IN_COOLING_OFF)
    async with scoring(database_url, bootstrap_servers, api_tokens) as client:
        await send(bootstrap_servers, event)
        [pending] = await scores(bootstrap_servers, expect=1)
        before = (await client.get(f"/v1/customers/{customer}/points", headers=auth(api_tokens["ops"]))).json()
        forbidden = await daily_run(client, api_tokens["call_center"], "2026-09-17")
        last_day = await daily_run(client, api_tokens["ops"], "2026-09-16")
        on_the_day = await daily_run(client, api_tokens["admin"], "2026-09-17")
        again = await daily_run(client, api_tokens["admin"], "2026-09-17")
        published = await scores(bootstrap_servers, expect=2)
        after = (await client.get(f"/v1/customers/{customer}/points", headers=auth(api_tokens["ops"]))).json()
        extra = await scores(bootstrap_servers, expect=3, timeout_s=2)

    assert (pending["points"], pending["pending_points"]) == ("0.00", "36000.00")
    assert pending["policies"][0]["state"] == "pending"
    assert pending["policies"][0]["pending_until"] == "2026-09-16"
    assert pending["pending_from"] == "2026-09-17"
    assert before["policies"][0]["verdict"] == "pending until 2026-09-16, counts from 2026-09-17"
    assert before["policies"][0]["counts_from"] == "2026-09-17"
    assert before["next_pending_date"] == "2026-09-17"
    assert forbidden.status_code == 403
    assert last_day.json() == {"as_of": "2026-09-16", "changed": 0, "steps": {"cooling_off_ended": 0}}
    assert on_the_day.json() == {"as_of": "2026-09-17", "changed": 1, "steps": {"cooling_off_ended": 1}}
    assert again.json() == {"as_of": "2026-09-17", "changed": 0, "steps": {"cooling_off_ended": 0}}
    scored = published[1]
    assert (scored["trigger"], scored["points"], scored["pending_points"]) == ("daily_run", "36000.00", "0.00")
    assert scored["as_of"] == "2026-09-17" and scored["revision"] == 2 and scored["pending_from"] is None
    assert after["policies"][0]["verdict"] == "counted" and after["next_pending_date"] is None
    assert len(extra) == 2, "running the same date again published another score"


async def test_a_cancellation_in_cooling_off_removes_the_pending_points(
    database_url: str, bootstrap_servers: str, api_tokens: dict[str, str]
) -> None:
    customer, policy_no = fresh_id("C"), fresh_id("P")
    bought = policy_event(policy_no=policy_no, holder_id=customer, occurred_at=IN_COOLING_OFF)
    cancelled = policy_event(
        policy_no=policy_no,
        holder_id=customer,
        event_type="cooling_off_cancellation",
        version=2,
        occurred_at="2026-09-05T09:00:00+08:00",
        status="cancelled",
    )
    async with scoring(database_url, bootstrap_servers, api_tokens) as client:
        await send(bootstrap_servers, bought, cancelled)
        published = await scores(bootstrap_servers, expect=2)
        run = await daily_run(client, api_tokens["ops"], "2026-09-30")
        view = (await client.get(f"/v1/customers/{customer}/points", headers=auth(api_tokens["ops"]))).json()

    assert [body["pending_points"] for body in published] == ["36000.00", "0.00"]
    assert published[1]["points"] == "0.00"
    assert run.json()["changed"] == 0
    assert view["policies"][0]["verdict"].startswith("excluded because cancelled")


async def test_a_late_event_does_not_put_a_counted_policy_back_into_cooling_off(
    database_url: str, bootstrap_servers: str, api_tokens: dict[str, str]
) -> None:
    customer, policy_no = fresh_id("C"), fresh_id("P")
    async with scoring(database_url, bootstrap_servers, api_tokens) as client:
        await send(bootstrap_servers, policy_event(policy_no=policy_no, holder_id=customer, occurred_at=IN_COOLING_OFF))
        await scores(bootstrap_servers, expect=1)
        assert (await daily_run(client, api_tokens["ops"], "2026-09-17")).json()["changed"] == 1
        late = policy_event(
            policy_no=policy_no,
            holder_id=customer,
            event_type="beneficiary_change",
            version=2,
            occurred_at="2026-09-05T09:00:00+08:00",
        )
        await send(bootstrap_servers, late)
        published = await scores(bootstrap_servers, expect=3)

    assert [(body["trigger"], body["points"]) for body in published] == [
        ("new_business", "0.00"),
        ("daily_run", "36000.00"),
        ("beneficiary_change", "36000.00"),
    ]


async def test_due_customers_are_found_and_ordered_by_the_composite_index_whatever_the_cursor(
    database_url: str, bootstrap_servers: str, api_tokens: dict[str, str]
) -> None:
    async with scoring(database_url, bootstrap_servers, api_tokens):
        pass  # migrations ran
    engine = create_async_engine(database_url)
    plans = []
    try:
        async with engine.connect() as connection:
            await connection.execute(text("SET enable_seqscan = off"))  # a tiny test table: plan as for a big one
            await connection.execute(text("SET enable_bitmapscan = off"))
            for after in ("", "2026-09-10|C0042"):
                statement = due_statement(as_of=date(2026, 9, 17), after=after, limit=200)
                sql = str(statement.compile(dialect=postgresql.dialect(), compile_kwargs={"literal_binds": True}))
                plans.append("\n".join((await connection.execute(text(f"EXPLAIN {sql}"))).scalars()))
    finally:
        await engine.dispose()

    for plan in plans:
        assert "Scan using ix_customers_next_pending_date_customer_id" in plan, plan  # index (only) scan
        assert "Sort" not in plan, plan  # the index gives the order: no sort of every due customer


# --- legacy standing: each policy as it stood on the day before cutover ---------------------------------


async def test_the_legacy_figure_before_cutover_does_not_depend_on_arrival_order(
    database_url: str, bootstrap_servers: str, api_tokens: dict[str, str]
) -> None:
    customer, legacy_policy = fresh_id("C"), fresh_id("P")
    legacy = {"issued_on": "2015-07-01", "cooling_off_ends_on": None, "product_type": "traditional",
              "payment_term_years": 10, "modal_premium": "25000.00"}
    bought = policy_event(policy_no=legacy_policy, holder_id=customer, occurred_at="2015-07-01T10:00:00+08:00",
                          **legacy)
    surrendered = policy_event(policy_no=legacy_policy, holder_id=customer, version=2, event_type="surrender",
                               status="surrendered", occurred_at="2016-01-10T10:00:00+08:00", **legacy)
    other = policy_event(policy_no=fresh_id("P"), holder_id=customer, occurred_at="2016-03-01T10:00:00+08:00",
                         issued_on="2016-02-01", cooling_off_ends_on="2016-02-16", modal_premium="5000.00")
    async with scoring(database_url, bootstrap_servers, api_tokens) as client:
        # one at a time: the two policies' events are keyed apart (other partitions), so sent together
        # either could be scored first; the arrival order under test is the stale version's, below
        await send(bootstrap_servers, other)
        await scores(bootstrap_servers, expect=1)
        await send(bootstrap_servers, surrendered)
        await scores(bootstrap_servers, expect=2)
        await send(bootstrap_servers, bought)  # stale for the current state, the version in force on 2015-07-31
        published = await scores(bootstrap_servers, expect=3)
        view = (await client.get(f"/v1/customers/{customer}/points", headers=auth(api_tokens["call_center"]))).json()

    assert [body["legacy_standard_premium_before_cutover"] for body in published] == [None, None, "25000.00"]
    assert [body["standard_premium"] for body in published] == ["5000.00", "5000.00", "5000.00"]
    assert (published[2]["trigger"], published[2]["revision"], published[2]["as_of"]) == (
        "new_business", 3, "2016-03-01"
    )
    assert view["legacy_standard_premium_before_cutover"] == "25000.00"
    by_policy = {policy["policy_no"]: policy for policy in view["policies"]}
    assert by_policy[legacy_policy]["stale_events_ignored"] == 1
    assert by_policy[legacy_policy]["verdict"].startswith("excluded because status surrendered")


# --- the explanation ----------------------------------------------------------------------------------


async def test_the_points_explanation_shows_formula_factor_base_and_verdict_per_policy(
    database_url: str, bootstrap_servers: str, api_tokens: dict[str, str]
) -> None:
    customer = fresh_id("C")
    counted = policy_event(
        policy_no=fresh_id("P"),
        holder_id=customer,
        occurred_at=AFTER_COOLING_OFF,
        payment_term_years=6,
        payment_mode="monthly",
        modal_premium="1000.05",
    )
    universal = policy_event(
        policy_no=fresh_id("P"),
        holder_id=customer,
        occurred_at=AFTER_COOLING_OFF,
        channel="bancassurance",
        product_type="universal",
        account_value="100000.00",
        issued_on="2026-10-01",
        cooling_off_ends_on="2026-10-16",
    )
    group = policy_event(policy_no=fresh_id("P"), holder_id=customer, occurred_at=AFTER_COOLING_OFF, channel="group")
    async with scoring(database_url, bootstrap_servers, api_tokens) as client:
        await send(bootstrap_servers, counted, universal, group)
        await scores(bootstrap_servers, expect=3)
        view = (await client.get(f"/v1/customers/{customer}/points", headers=auth(api_tokens["call_center"]))).json()
        preview = (
            await client.get(
                f"/v1/customers/{customer}/points",
                params={"as_of": "2026-10-17"},
                headers=auth(api_tokens["call_center"]),
            )
        ).json()

    by_policy = {policy["policy_no"]: policy for policy in view["policies"]}
    six_years = by_policy[counted["policy"]["policy_no"]]
    assert (six_years["formula"], six_years["factor"], six_years["base"], six_years["base_amount"]) == (
        "X/10 x N (X = 6 < 10)",
        "0.6",
        "N",
        "12000.60",
    )
    assert (six_years["points"], six_years["legacy_factor"], six_years["standard_premium"]) == (
        "7200.36",
        "0.5",
        "6000.30",
    )
    assert six_years["verdict"] == "counted"
    account = by_policy[universal["policy"]["policy_no"]]
    assert (account["base"], account["factor"], account["base_amount"]) == ("Z", "0.08", "100000.00")
    assert account["verdict"] == "pending until 2026-10-16, counts from 2026-10-17" and account["points"] == "0.00"
    assert by_policy[group["policy"]["policy_no"]]["verdict"].startswith("excluded because group channel")
    assert (view["points"], view["pending_points"], view["serving_channel"]) == ("7200.36", "8000.00", "agency")
    assert view["preview"] is False and view["trigger"] == "new_business"
    assert preview["preview"] is True
    assert (preview["points"], preview["serving_channel"]) == ("15200.36", "bancassurance")
