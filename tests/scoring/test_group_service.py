"""Scoring's group program against the real embedded PostgreSQL and the real broker: group policies
and the CRM's client events in, `GroupClientScored` out (rules.md section 9)."""

from decimal import Decimal
from typing import Any

from services.scoring.config import ScoringSettings
from services.scoring.main import create_app
from shared.topics import CUSTOMER_EVENTS, CUSTOMER_SCORES, GROUP_CLIENTS, POLICY_EVENTS
from tests.builders.group_clients import group_client_upserted, group_experience_reported, group_policy_event
from tests.builders.policies import policy_event
from tests.support import eventually, fresh_id, publish, read_topic, running, service_settings


def _settings(database_url: str, bootstrap_servers: str, api_tokens: dict[str, str]) -> ScoringSettings:
    return service_settings(
        ScoringSettings, database_url=database_url, bootstrap_servers=bootstrap_servers, tokens=api_tokens
    )


async def _published_for(bootstrap_servers: str, topic: str, key: str, *, count: int) -> list[dict[str, Any]]:
    async def check() -> list[dict[str, Any]] | None:
        records = await read_topic(bootstrap_servers, topic, expect=10_000, timeout_s=1)
        mine = [record.json() for record in records if record.key == key.encode()]
        return mine if len(mine) >= count else None

    return await eventually(check, timeout_s=30, what=f"{count} records for {key} on {topic}")


async def test_a_client_its_policies_and_experience_come_out_as_one_scored_client(
    database_url: str, bootstrap_servers: str, api_tokens: dict[str, str]
) -> None:
    settings = _settings(database_url, bootstrap_servers, api_tokens)
    client = fresh_id("K")
    async with running(create_app(settings), port=settings.http_port):
        await publish(bootstrap_servers, CUSTOMER_EVENTS, [(client, group_experience_reported(client_id=client))])
        await publish(bootstrap_servers, CUSTOMER_EVENTS, [(client, group_client_upserted(client_id=client))])
        await _published_for(bootstrap_servers, GROUP_CLIENTS, client, count=1)  # topics are not ordered together
        await publish(
            bootstrap_servers,
            POLICY_EVENTS,
            [(f"{client}-1", group_policy_event(policy_no=f"{client}-1", client_id=client)),
             (f"{client}-2", group_policy_event(policy_no=f"{client}-2", client_id=client, modal_premium="50000.00",
                                                payment_term_years=3))],
        )
        scored = await _published_for(bootstrap_servers, GROUP_CLIENTS, client, count=3)

    assert [(body["revision"], body["trigger"]) for body in scored] == [
        (1, "group_client_upserted"), (2, "new_business"), (3, "new_business")
    ]
    first, last = scored[0], scored[-1]
    assert first["trigger"] == "group_client_upserted"
    assert [Decimal(period["earned_premium"]) for period in first["experience"]] == [Decimal("100000.00")], (
        "the experience reported before the client was known is part of its first score"
    )
    assert Decimal(last["annual_standard_premium"]) == Decimal("130000.00")
    assert last["in_force_policies"] == 2
    assert last["profile"]["client_id"] == client and last["ruleset_version"] == "group-example.1"


async def test_a_group_policy_leaves_the_holders_individual_points_alone(
    database_url: str, bootstrap_servers: str, api_tokens: dict[str, str]
) -> None:
    settings = _settings(database_url, bootstrap_servers, api_tokens)
    customer = fresh_id("C")
    async with running(create_app(settings), port=settings.http_port):
        await publish(bootstrap_servers, POLICY_EVENTS, [(customer, policy_event(policy_no=fresh_id("P"),
                                                                                holder_id=customer))])
        await _published_for(bootstrap_servers, CUSTOMER_SCORES, customer, count=1)
        group = group_policy_event(policy_no=fresh_id("G"), client_id=customer, modal_premium="900000.00")
        await publish(bootstrap_servers, POLICY_EVENTS, [(customer, group)])
        scores = await _published_for(bootstrap_servers, CUSTOMER_SCORES, customer, count=2)

    assert [Decimal(body["points"]) for body in scores] == [Decimal("36000.00")] * 2
    assert scores[0]["standard_premium"] == scores[1]["standard_premium"]


async def test_a_negative_amount_in_an_experience_report_is_dead_lettered_with_the_reason(
    database_url: str, bootstrap_servers: str, api_tokens: dict[str, str]
) -> None:
    settings = _settings(database_url, bootstrap_servers, api_tokens)
    client = fresh_id("K")
    negative = group_experience_reported(client_id=client, earned_premium="-5.00")
    async with running(create_app(settings), port=settings.http_port):
        await publish(bootstrap_servers, CUSTOMER_EVENTS, [(client, negative)])

        async def dead() -> list[Any] | None:
            records = await read_topic(bootstrap_servers, f"{CUSTOMER_EVENTS}.dlq", expect=10_000, timeout_s=1)
            mine = [r for r in records if r.key == client.encode() and r.headers["dlq.service"] == b"scoring"]
            return mine or None

        [record] = await eventually(dead, timeout_s=30, what="the dead letter")
    assert "earned_premium" in record.headers["dlq.reason"].decode()
