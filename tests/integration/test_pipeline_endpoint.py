"""`GET /v1/ops/pipeline` on a real service (tiering) against the real PostgreSQL and broker: an
event the service cannot apply yet shows as lag on its partition, and once applied it shows in the
counters (applied, published) with the pipeline drained; the time it waited shows in the hop
histograms the latency bench reads (`bench.hops`)."""

import time
from typing import Any

import httpx
from sqlalchemy.ext.asyncio import create_async_engine

from bench.hops import waits_in
from services.tiering.config import TieringSettings
from services.tiering.main import create_app
from services.tiering.repositories.customers import LOCK_SCOPE
from shared.locks import lock_keys
from shared.topic_config import topic_config_for
from shared.topics import CUSTOMER_EVENTS, CUSTOMER_SCORES, GROUP_CLIENTS, GROUP_FEEDBACK, TIER_DECISIONS
from tests.builders.scores import scored
from tests.support import auth, eventually, fresh_id, publish, running, service_settings


async def _state(client: httpx.AsyncClient, token: str) -> dict[str, Any]:
    answer = await client.get("/v1/ops/pipeline", headers=auth(token))
    assert answer.status_code == 200, answer.text
    body: dict[str, Any] = answer.json()
    return body


async def test_an_event_not_yet_applied_is_lag_and_once_applied_it_is_counted(
    database_url: str, bootstrap_servers: str, api_tokens: dict[str, str]
) -> None:
    settings = service_settings(
        TieringSettings, database_url=database_url, bootstrap_servers=bootstrap_servers, tokens=api_tokens
    )
    customer = fresh_id("C")
    event = scored(customer, revision=1, points="36000.00")
    holder = create_async_engine(database_url)
    try:
        async with running(create_app(settings), port=settings.http_port) as client:
            ops = api_tokens["ops"]

            async def drained() -> dict[str, Any] | None:
                body = await _state(client, ops)
                return body if body["drained"] else None

            idle = await eventually(drained, what="an idle tiering drained")
            assert idle["service"] == "tiering" and idle["lag"] == 0 and idle["outbox_backlog"] == 0
            consumed = {CUSTOMER_SCORES, CUSTOMER_EVENTS, GROUP_CLIENTS, GROUP_FEEDBACK}
            assert {p["topic"] for p in idle["partitions"]} == consumed
            assert len(idle["partitions"]) == sum(topic_config_for(topic).partitions for topic in consumed)
            assert idle["applied"] == {} and idle["published"] == {}

            async with holder.connect() as blocking:  # the customer's lock held: tiering waits on it
                await lock_keys(blocking, scope=LOCK_SCOPE, keys=[customer])
                published_at = time.monotonic()
                await publish(bootstrap_servers, CUSTOMER_SCORES, [(customer, event.model_dump_json().encode())])

                async def behind() -> dict[str, Any] | None:
                    body = await _state(client, ops)
                    return body if body["lag"] == 1 else None

                waiting = await eventually(behind, what="the event shown as lag")
                assert waiting["drained"] is False
                [late] = [p for p in waiting["partitions"] if p["lag"]]
                assert (late["topic"], late["end"] - late["committed"]) == (CUSTOMER_SCORES, 1)
                await blocking.rollback()
                held_for = time.monotonic() - published_at

            done = await eventually(drained, what="the pipeline drained once the event is applied")
            assert done["applied"] == {CUSTOMER_SCORES: {"customer_scored": 1}}
            assert done["published"] == {TIER_DECISIONS: 1}
            assert done["counting_since"] == idle["counting_since"]

            exposition = (await client.get("/metrics")).text
            waits = {(wait.metric, wait.topic): wait for wait in waits_in("tiering", exposition)}
            consumed_wait = waits["vip_record_wait_seconds", CUSTOMER_SCORES]
            assert consumed_wait.count == 1 and consumed_wait.mean_ms >= 1000 * held_for * 0.9
            assert waits["vip_outbox_wait_seconds", TIER_DECISIONS].count == 1

            refused = await client.get("/v1/ops/pipeline", headers=auth(api_tokens["call_center"]))
            assert refused.status_code == 403
            assert refused.headers["content-type"].startswith("application/problem+json")
    finally:
        await holder.dispose()
