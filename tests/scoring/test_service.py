"""The scoring service against the real embedded PostgreSQL and the real broker."""

from decimal import Decimal

from services.scoring.config import ScoringSettings
from services.scoring.main import create_app
from shared.topics import CUSTOMER_SCORES, POLICY_EVENTS
from tests.builders.policies import policy_event
from tests.support import auth, fresh_id, publish, read_topic, running, service_settings


def _settings(database_url: str, bootstrap_servers: str, api_tokens: dict[str, str]) -> ScoringSettings:
    return service_settings(
        ScoringSettings, database_url=database_url, bootstrap_servers=bootstrap_servers, tokens=api_tokens
    )


async def test_a_policy_event_publishes_the_holders_points_once_even_when_delivered_twice(
    database_url: str, bootstrap_servers: str, api_tokens: dict[str, str]
) -> None:
    settings = _settings(database_url, bootstrap_servers, api_tokens)
    customer = fresh_id("C")
    event = policy_event(policy_no=fresh_id("P"), holder_id=customer, modal_premium="36000.00")
    async with running(create_app(settings), port=settings.http_port):
        await publish(bootstrap_servers, POLICY_EVENTS, [(event["policy"]["policy_no"], event)] * 2)
        scored = await read_topic(bootstrap_servers, CUSTOMER_SCORES, expect=1)
        again = await read_topic(bootstrap_servers, CUSTOMER_SCORES, expect=2, timeout_s=3)

    assert len(again) == 1, "the duplicate delivery published a second score"
    body = scored[0].json()
    assert scored[0].key == customer.encode()
    assert body["customer_id"] == customer
    assert Decimal(body["points"]) == Decimal("36000.00")
    assert body["revision"] == 1
    assert body["trigger"] == "new_business"
    assert body["correlation_id"] == event["event_id"]


async def test_garbage_goes_to_the_dead_letter_topic_and_the_next_event_is_still_processed(
    database_url: str, bootstrap_servers: str, api_tokens: dict[str, str]
) -> None:
    settings = _settings(database_url, bootstrap_servers, api_tokens)
    customer = fresh_id("C")
    valid = policy_event(policy_no=fresh_id("P"), holder_id=customer)
    invalid = policy_event(policy_no=fresh_id("P"), holder_id=customer, modal_premium=36000.0)
    async with running(create_app(settings), port=settings.http_port):
        await publish(
            bootstrap_servers,
            POLICY_EVENTS,
            [("P1", b"this is not json"), ("P2", invalid), (valid["policy"]["policy_no"], valid)],
        )
        dead = await read_topic(bootstrap_servers, f"{POLICY_EVENTS}.dlq", expect=2)
        scored = await read_topic(bootstrap_servers, CUSTOMER_SCORES, expect=1)

    assert [record.value for record in dead if record.key == b"P1"] == [b"this is not json"]
    reasons = {record.key: record.headers["dlq.reason"].decode() for record in dead}
    assert "Invalid JSON" in reasons[b"P1"]
    assert "policy.modal_premium" in reasons[b"P2"] and "decimal string" in reasons[b"P2"]
    assert all(record.headers["dlq.service"] == b"scoring" for record in dead)
    assert [record.json()["customer_id"] for record in scored] == [customer]


async def test_points_endpoint_needs_a_token_and_a_role(
    database_url: str, bootstrap_servers: str, api_tokens: dict[str, str]
) -> None:
    settings = _settings(database_url, bootstrap_servers, api_tokens)
    async with running(create_app(settings), port=settings.http_port) as client:
        missing = await client.get("/v1/customers/C1/points")
        wrong_role = await client.get("/v1/customers/C1/points", headers=auth(api_tokens["branch_gm"]))
        unknown = await client.get("/v1/customers/C1/points", headers=auth(api_tokens["call_center"]))
        ready = await client.get("/readyz")
        metrics = await client.get("/metrics")

    assert missing.status_code == 401 and "bearer token" in missing.json()["detail"]
    assert wrong_role.status_code == 403 and "call_center" in wrong_role.json()["detail"]
    assert unknown.status_code == 404
    assert ready.status_code == 200, ready.text
    assert "vip_events_consumed_total" in metrics.text
    assert 'route="/v1/customers/{customer_id}/points",status="403"' in metrics.text
