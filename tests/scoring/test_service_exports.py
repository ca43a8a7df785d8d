"""Scoring's export and reconciliations against the real embedded PostgreSQL and broker."""

import httpx
import orjson

from services.scoring.config import ScoringSettings
from services.scoring.main import create_app
from shared.topics import POLICY_EVENTS
from tests.builders.policies import policy_event
from tests.support import auth, eventually, fresh_id, publish, running, service_settings


async def test_the_export_streams_every_policy_in_order_and_a_reconciliation_is_applied_and_counted(
    database_url: str, bootstrap_servers: str, api_tokens: dict[str, str]
) -> None:
    settings = service_settings(
        ScoringSettings, database_url=database_url, bootstrap_servers=bootstrap_servers, tokens=api_tokens
    )
    customer, prefix = fresh_id("C"), fresh_id("P")
    numbers = [f"{prefix}-{suffix}" for suffix in ("b", "a", "c")]
    events = [policy_event(policy_no=number, holder_id=customer, version=2) for number in numbers]
    correction = policy_event(
        policy_no=numbers[0], holder_id=customer, version=2, event_type="policy_reconciled", status="surrendered"
    )
    async with running(create_app(settings), port=settings.http_port) as client:
        await publish(bootstrap_servers, POLICY_EVENTS, [(event["policy"]["policy_no"], event) for event in events])
        await eventually(lambda: _points(client, customer, api_tokens, expect="108000.00"), what="three policies")
        await publish(bootstrap_servers, POLICY_EVENTS, [(numbers[0], correction)])
        points = await eventually(lambda: _points(client, customer, api_tokens, expect="72000.00"), what="the fix")
        forbidden = await client.get("/v1/ops/exports/policies", headers=auth(api_tokens["call_center"]))
        exported = await client.get("/v1/ops/exports/policies?sorted=true", headers=auth(api_tokens["ops"]))

    assert forbidden.status_code == 403
    header, *lines = exported.content.splitlines()
    assert orjson.loads(header) == {"export": "policies", "rows": len(lines)}
    rows = [orjson.loads(line) for line in lines]
    assert [row["policy"]["policy_no"] for row in rows] == sorted(row["policy"]["policy_no"] for row in rows)
    mine = {row["policy"]["policy_no"]: row for row in rows if row["policy"]["holder_id"] == customer}
    assert sorted(mine) == sorted(numbers)
    assert (mine[numbers[0]]["last_event_type"], mine[numbers[0]]["policy"]["status"]) == (
        "policy_reconciled",
        "surrendered",
    )
    assert {policy["policy_no"]: policy["reconciliations"] for policy in points["policies"]} == {
        numbers[0]: 1,
        numbers[1]: 0,
        numbers[2]: 0,
    }


async def _points(
    client: httpx.AsyncClient, customer: str, tokens: dict[str, str], *, expect: str
) -> dict[str, object] | None:
    response = await client.get(f"/v1/customers/{customer}/points", headers=auth(tokens["ops"]))
    if response.status_code != 200 or response.json()["points"] != expect:
        return None
    body: dict[str, object] = response.json()
    return body
