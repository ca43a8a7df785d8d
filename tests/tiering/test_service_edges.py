"""Issue 17 on the tiering service, against the real embedded PostgreSQL and the real broker: the
CRM profile's branch (`customer_upserted` on `crm.customer-events`), honorary applications filed with
a channel and a branch, and the serving channel, branch and pending points every decision carries.
"""

import uuid
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import httpx

from services.tiering.config import TieringSettings
from services.tiering.domain.honorary import APPROVER_ROLES
from services.tiering.main import create_app
from shared.events.internal import CustomerScored, PolicyContribution
from shared.events.values import Channel
from shared.topics import CUSTOMER_EVENTS, CUSTOMER_SCORES, TIER_DECISIONS
from tests.builders.scores import scored
from tests.support import auth, eventually, fresh_id, publish, read_topic, running, service_settings

SHANGHAI = ZoneInfo("Asia/Shanghai")


def _settings(database_url: str, bootstrap_servers: str, api_tokens: dict[str, str]) -> TieringSettings:
    return service_settings(
        TieringSettings, database_url=database_url, bootstrap_servers=bootstrap_servers, tokens=api_tokens,
        allow_future_daily_run=True,
    )


async def _history(client: httpx.AsyncClient, token: str, customer_id: str, *, count: int) -> list[dict[str, Any]]:
    async def check() -> list[dict[str, Any]] | None:
        response = await client.get(f"/v1/customers/{customer_id}/tier-history", headers=auth(token))
        decisions: list[dict[str, Any]] = response.json()["decisions"] if response.status_code == 200 else []
        return decisions if len(decisions) >= count else None

    return await eventually(check, what=f"{count} decisions for {customer_id}")


def _profile(customer_id: str, *, branch: str) -> dict[str, Any]:
    return {
        "event_id": uuid.uuid4().hex, "event_type": "customer_upserted", "occurred_at": "2026-10-10T09:00:00+08:00",
        "customer": {"customer_id": customer_id, "name": "Li Lei", "birthday": None, "branch": branch},
    }


async def test_a_crm_branch_re_publishes_the_decision_only_when_it_changes_the_branch(
    database_url: str, bootstrap_servers: str, api_tokens: dict[str, str]
) -> None:
    settings = _settings(database_url, bootstrap_servers, api_tokens)
    customer = fresh_id("C")
    async with running(create_app(settings), port=settings.http_port) as client:
        event = scored(customer, revision=1, points="36000.00")
        await publish(bootstrap_servers, CUSTOMER_SCORES, [(customer, event.model_dump_json().encode())])
        await _history(client, api_tokens["ops"], customer, count=1)
        await publish(bootstrap_servers, CUSTOMER_EVENTS, [
            (customer, _profile(customer, branch="GD-SZ")),  # the main policy's branch already: nothing to say
            (customer, _profile(customer, branch="BJ-HD")),
        ])
        shown = await _history(client, api_tokens["ops"], customer, count=2)
        records = await read_topic(bootstrap_servers, TIER_DECISIONS, expect=2)

    assert [(d["branch"], d["trigger"], d["tier"]) for d in shown] == [
        ("BJ-HD", "customer_upserted", "gold"),
        ("GD-SZ", "new_business", "gold"),
    ]
    published = [record.json() for record in records if record.json()["customer_id"] == customer]
    assert [(d["revision"], d["branch"]) for d in published] == [(1, "GD-SZ"), (2, "BJ-HD")]


async def test_a_legacy_customers_decision_carries_the_legacy_serving_channel_and_pending_points(
    database_url: str, bootstrap_servers: str, api_tokens: dict[str, str]
) -> None:
    settings = _settings(database_url, bootstrap_servers, api_tokens)
    customer = fresh_id("C")
    base = scored(customer, revision=1, points="8000.00", standard_premium="40000.00", as_of=date(2016, 3, 1))
    bank = PolicyContribution(
        policy_no=fresh_id("P"), channel=Channel.BANCASSURANCE, branch="GD-GZ", agent_id=None,
        issued_on=date(2016, 1, 1), points=Decimal("30000.00"), standard_premium=Decimal("3000.00"), state="counted",
        explanation="participating, 3 years",
    )
    event: CustomerScored = base.model_copy(update={
        "policies": (*base.policies, bank),
        "pending_points": Decimal("36000.00"),
        "pending_from": date(2016, 3, 12),
        "legacy_standard_premium_before_cutover": Decimal("40000.00"),
    })
    async with running(create_app(settings), port=settings.http_port) as client:
        await publish(bootstrap_servers, CUSTOMER_SCORES, [(customer, event.model_dump_json().encode())])
        [shown] = await _history(client, api_tokens["call_center"], customer, count=1)

    assert (shown["tier"], shown["standard"], shown["points"]) == ("gold", "legacy", "40000.00")
    assert (shown["serving_channel"], shown["branch"]) == ("agency", "GD-SZ")
    assert (shown["pending_points"], shown["pending_from"]) == ("36000.00", "2016-03-12")


async def test_an_honorary_vip_without_policies_is_served_by_the_filing_channel_and_branch(
    database_url: str, bootstrap_servers: str, api_tokens: dict[str, str]
) -> None:
    settings = _settings(database_url, bootstrap_servers, api_tokens)
    customer = fresh_id("C")
    async with running(create_app(settings), port=settings.http_port) as client:
        filed = await client.post(
            "/v1/honorary-applications",
            json={"customer_id": customer, "tier": "platinum", "reason": "provincial congress member",
                  "expires_on": (datetime.now(SHANGHAI).date() + timedelta(days=365)).isoformat(),
                  "channel": "bancassurance", "branch": "SH-PD"},
            headers=auth(api_tokens["honorary_applicant"]),
        )
        assert filed.status_code == 201, filed.text
        application = filed.json()
        for role in APPROVER_ROLES:
            decided = await client.post(
                f"/v1/honorary-applications/{application['id']}/decisions",
                json={"decision": "approve", "comment": "agreed"}, headers=auth(api_tokens[role]),
            )
            assert decided.status_code == 200, decided.text
        [shown] = await _history(client, api_tokens["call_center"], customer, count=1)
        bad = await client.post(
            "/v1/honorary-applications",
            json={"customer_id": fresh_id("C"), "tier": "gold", "reason": "x", "channel": "carrier pigeon"},
            headers=auth(api_tokens["honorary_applicant"]),
        )

    assert (application["channel"], application["branch"]) == ("bancassurance", "SH-PD")
    assert (shown["tier"], shown["trigger"], shown["serving_channel"], shown["branch"]) == (
        "platinum", "honorary", "bancassurance", "SH-PD"
    )
    assert bad.status_code == 422
