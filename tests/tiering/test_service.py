"""The tiering service against the real embedded PostgreSQL and the real broker."""

import uuid
from datetime import date, datetime
from functools import partial
from typing import Any

import httpx
from sqlalchemy.ext.asyncio import create_async_engine

from services.tiering.config import TieringSettings
from services.tiering.domain.customers import Honorary
from services.tiering.main import create_app
from services.tiering.repositories import TieringUnitOfWork
from services.tiering.workflows.customers import set_honorary
from shared.db import Transactions
from shared.events.internal import CustomerScored
from shared.events.values import Tier
from shared.ruleset import load_ruleset
from shared.settings import DEFAULT_RULESET_PATH
from shared.topics import CUSTOMER_EVENTS, CUSTOMER_SCORES, TIER_DECISIONS
from tests.builders.scores import CHINA, roster_entry, scored
from tests.support import Record, auth, eventually, fresh_id, publish, read_topic, running, service_settings


def _settings(database_url: str, bootstrap_servers: str, api_tokens: dict[str, str]) -> TieringSettings:
    return service_settings(
        TieringSettings,
        database_url=database_url,
        bootstrap_servers=bootstrap_servers,
        tokens=api_tokens,
        allow_future_daily_run=True,
    )


async def publish_scores(bootstrap_servers: str, *events: CustomerScored) -> None:
    await publish(
        bootstrap_servers, CUSTOMER_SCORES, [(event.customer_id, event.model_dump_json().encode()) for event in events]
    )


async def history(client: httpx.AsyncClient, token: str, customer_id: str, *, count: int) -> list[dict[str, Any]]:
    async def check() -> list[dict[str, Any]] | None:
        response = await client.get(f"/v1/customers/{customer_id}/tier-history", headers=auth(token))
        decisions: list[dict[str, Any]] = response.json()["decisions"] if response.status_code == 200 else []
        return decisions if len(decisions) >= count else None

    return await eventually(check, what=f"{count} decisions for {customer_id}")


async def grant_honorary(database_url: str, customer_id: str, honorary: Honorary) -> None:
    """What the honorary approval workflow will do on final approval, in a transaction of its own."""
    transactions = Transactions(
        engine=create_async_engine(database_url),
        make_unit_of_work=partial(TieringUnitOfWork, ruleset=load_ruleset(DEFAULT_RULESET_PATH)),
    )
    async with transactions.begin() as uow:
        uow.publish(
            await set_honorary(
                uow,
                customer_id=customer_id,
                honorary=honorary,
                as_of=date(2026, 6, 1),
                cause_id=uuid.uuid4().hex,
                occurred_at=datetime(2026, 6, 1, 9, tzinfo=CHINA),
            )
        )
    await transactions.engine.dispose()


def without_steps(response: httpx.Response) -> dict[str, Any]:
    """A daily run's answer as it was before the shared driver added what each step changed."""
    return {key: value for key, value in response.json().items() if key != "steps"}


def bodies(records: list[Record]) -> list[dict[str, Any]]:
    return [record.json() for record in records]


async def test_a_score_publishes_a_tier_decision_once_and_explains_it(
    database_url: str, bootstrap_servers: str, api_tokens: dict[str, str]
) -> None:
    settings = _settings(database_url, bootstrap_servers, api_tokens)
    customer = fresh_id("C")
    event = scored(customer, revision=1, points="36000.00", standard_premium="36000.00")
    async with running(create_app(settings), port=settings.http_port) as client:
        await publish_scores(bootstrap_servers, event, event)
        decided = await read_topic(bootstrap_servers, TIER_DECISIONS, expect=1)
        again = await read_topic(bootstrap_servers, TIER_DECISIONS, expect=2, timeout_s=3)
        shown = await history(client, api_tokens["call_center"], customer, count=1)
        by_ops = await client.get(f"/v1/customers/{customer}/tier-history", headers=auth(api_tokens["ops"]))

    assert len(again) == 1, "the duplicate delivery published a second decision"
    assert decided[0].key == customer.encode()
    body = decided[0].json()
    assert (body["tier"], body["previous_tier"], body["standard"], body["points"]) == (
        "gold",
        None,
        "2015",
        "36000.00",
    )
    assert (body["vip_since"], body["effective_at"], body["revision"]) == ("2026-03-16", "2026-03-16", 1)
    assert body["correlation_id"] == event.correlation_id
    assert body["reason"] == "2015 standard: 36,000.00 points >= Gold 30,000 (new_business)"
    assert [policy["policy_no"] for policy in body["policies"]] == [f"P-{customer}"]
    assert shown == [
        {
            "tier": "gold",
            "standard": "2015",
            "points": "36000.00",
            "effective_at": "2026-03-16",
            "trigger": "new_business",
            "ruleset_version": "individual-2015.1",
            "reason": "2015 standard: 36,000.00 points >= Gold 30,000 (new_business)",
            "previous_tier": None,
            "computed_tier": "gold",
            "honorary_tier": None,
            "vip_since": "2026-03-16",
            "serving_channel": "agency",
            "branch": "GD-SZ",
            "pending_points": "0.00",
            "pending_from": None,
        }
    ]
    assert by_ops.status_code == 200


async def test_stale_scores_have_no_effect_and_history_is_newest_first(
    database_url: str, bootstrap_servers: str, api_tokens: dict[str, str]
) -> None:
    settings = _settings(database_url, bootstrap_servers, api_tokens)
    customer = fresh_id("C")
    async with running(create_app(settings), port=settings.http_port) as client:
        await publish_scores(
            bootstrap_servers,
            scored(customer, revision=1, points="36000.00"),
            scored(customer, revision=3, points="80000.00", as_of=date(2026, 4, 1), trigger="additional_premium"),
            scored(customer, revision=2, points="10.00", as_of=date(2026, 3, 20), trigger="surrender"),
            scored(customer, revision=3, points="10.00", as_of=date(2026, 4, 2), trigger="lapse"),
            scored(customer, revision=4, points="29999.99", as_of=date(2026, 5, 1), trigger="lapse"),
        )
        shown = await history(client, api_tokens["call_center"], customer, count=3)
        decided = await read_topic(bootstrap_servers, TIER_DECISIONS, expect=4, timeout_s=3)

    assert [(d["tier"], d["trigger"], d["effective_at"]) for d in shown] == [
        (None, "lapse", "2026-05-01"),
        ("platinum", "additional_premium", "2026-04-01"),
        ("gold", "new_business", "2026-03-16"),
    ]
    assert [(d["revision"], d["tier"], d["previous_tier"]) for d in bodies(decided)] == [
        (1, "gold", None),
        (2, "platinum", "gold"),
        (3, None, "platinum"),
    ]


async def test_a_roster_entry_after_the_scores_corrects_the_standard(
    database_url: str, bootstrap_servers: str, api_tokens: dict[str, str]
) -> None:
    settings = _settings(database_url, bootstrap_servers, api_tokens)
    customer = fresh_id("C")
    profile = {
        "event_id": uuid.uuid4().hex,
        "event_type": "customer_upserted",
        "occurred_at": "2015-09-02T09:00:00+08:00",
        "customer": {"customer_id": customer, "name": "Li Lei", "birthday": None, "branch": "GD-SZ"},
    }
    async with running(create_app(settings), port=settings.http_port) as client:
        await publish_scores(
            bootstrap_servers,
            scored(customer, revision=1, points="12000.00", standard_premium="25000.00", as_of=date(2015, 9, 1)),
        )
        await history(client, api_tokens["ops"], customer, count=1)
        await publish(bootstrap_servers, CUSTOMER_EVENTS, [(customer, profile), (customer, roster_entry(customer))])
        shown = await history(client, api_tokens["ops"], customer, count=2)
        decided = await read_topic(bootstrap_servers, TIER_DECISIONS, expect=2)
        metrics = (await client.get("/metrics")).text

    assert 'vip_events_ignored_total{topic="crm.customer-events"} 1.0' not in metrics
    assert [d["branch"] for d in shown] == ["GD-SZ", "GD-SZ"], "the profile's branch is the policy's: no decision"
    assert [(d["tier"], d["standard"], d["points"], d["trigger"]) for d in shown] == [
        ("gold", "legacy", "25000.00", "legacy_vip_imported"),
        (None, "2015", "12000.00", "new_business"),
    ]
    assert "legacy standard kept" in shown[0]["reason"]
    latest = decided[-1].json()
    assert (latest["vip_since"], latest["effective_at"], latest["revision"]) == ("2012-05-01", "2015-10-01", 2)
    assert latest["policies"][0]["policy_no"] == f"P-{customer}"


async def test_tier_history_needs_a_role_and_a_known_customer(
    database_url: str, bootstrap_servers: str, api_tokens: dict[str, str]
) -> None:
    settings = _settings(database_url, bootstrap_servers, api_tokens)
    async with running(create_app(settings), port=settings.http_port) as client:
        missing = await client.get("/v1/customers/C1/tier-history")
        wrong_role = await client.get("/v1/customers/C1/tier-history", headers=auth(api_tokens["branch_gm"]))
        unknown = await client.get("/v1/customers/C1/tier-history", headers=auth(api_tokens["call_center"]))
        run_by_call_center = await client.post(
            "/v1/daily-runs", json={"as_of": "2026-03-16"}, headers=auth(api_tokens["call_center"])
        )
        ready = await client.get("/readyz")

    assert missing.status_code == 401
    assert wrong_role.status_code == 403 and "call_center" in wrong_role.json()["detail"]
    assert unknown.status_code == 404
    assert run_by_call_center.status_code == 403
    assert ready.status_code == 200, ready.text


async def test_daily_run_changes_nothing_unless_an_honorary_tier_is_due(
    database_url: str, bootstrap_servers: str, api_tokens: dict[str, str]
) -> None:
    settings = _settings(database_url, bootstrap_servers, api_tokens)
    customer = fresh_id("C")
    admin = auth(api_tokens["admin"])
    async with running(create_app(settings), port=settings.http_port) as client:
        await publish_scores(bootstrap_servers, scored(customer, revision=1, points="36000.00"))
        await history(client, api_tokens["ops"], customer, count=1)
        nothing_due = await client.post("/v1/daily-runs", json={"as_of": "2026-12-31"}, headers=admin)

        # Honorary applications come later (issue 6); until then the grant goes in directly.
        await grant_honorary(database_url, customer, Honorary(tier=Tier.DIAMOND, expires_on=date(2027, 1, 1)))
        not_yet = await client.post("/v1/daily-runs", json={"as_of": "2026-12-31"}, headers=admin)
        due = await client.post("/v1/daily-runs", json={"as_of": "2027-01-02"}, headers=auth(api_tokens["ops"]))
        twice = await client.post("/v1/daily-runs", json={"as_of": "2027-01-02"}, headers=admin)
        shown = await history(client, api_tokens["ops"], customer, count=3)
        decided = await read_topic(bootstrap_servers, TIER_DECISIONS, expect=3)

    assert without_steps(nothing_due) == {"as_of": "2026-12-31", "changed": 0}
    assert without_steps(not_yet) == {"as_of": "2026-12-31", "changed": 0}
    assert without_steps(due) == {"as_of": "2027-01-02", "changed": 1}
    assert without_steps(twice) == {"as_of": "2027-01-02", "changed": 0}
    assert due.json()["steps"] == {"honorary_tiers_lapsed": 1, "honorary_grants_expired": 0}
    assert [(d["tier"], d["honorary_tier"], d["trigger"], d["effective_at"]) for d in shown] == [
        ("gold", None, "daily_run", "2027-01-02"),
        ("diamond", "diamond", "honorary", "2026-06-01"),
        ("gold", None, "new_business", "2026-03-16"),
    ]
    assert [(d["revision"], d["tier"], d["previous_tier"]) for d in bodies(decided)] == [
        (1, "gold", None),
        (2, "diamond", "gold"),
        (3, "gold", "diamond"),
    ]


async def test_a_legacy_vip_keeps_legacy_slides_down_and_requalifies_on_2015(
    database_url: str, bootstrap_servers: str, api_tokens: dict[str, str]
) -> None:
    settings = _settings(database_url, bootstrap_servers, api_tokens)
    customer = fresh_id("C")
    async with running(create_app(settings), port=settings.http_port) as client:
        await publish_scores(
            bootstrap_servers,
            scored(customer, revision=1, points="5000.00", standard_premium="25000.00", as_of=date(2015, 7, 31)),
            scored(customer, revision=2, points="6000.00", standard_premium="21000.00", as_of=date(2015, 9, 1)),
            scored(
                customer,
                revision=3,
                points="6000.00",
                standard_premium="19999.99",
                as_of=date(2016, 1, 5),
                trigger="partial_surrender",
            ),
            scored(customer, revision=4, points="30000.00", standard_premium="90000.00", as_of=date(2017, 1, 5)),
        )
        shown = await history(client, api_tokens["call_center"], customer, count=4)

    assert [(d["tier"], d["standard"], d["points"], d["vip_since"]) for d in shown] == [
        ("gold", "2015", "30000.00", "2017-01-05"),
        (None, "2015", "6000.00", None),
        ("gold", "legacy", "21000.00", "2015-07-31"),
        ("gold", "legacy", "25000.00", "2015-07-31"),
    ]
    assert "moved to the 2015 standard for good" in shown[1]["reason"]
