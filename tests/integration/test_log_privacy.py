"""Logs at INFO carry no customer data, and the correlation id follows one event through services.

Scoring and tiering run for real (each its own database, one broker) with the root logger at INFO and
our JSON formatter, as `configure_logging` sets them up in production; the services' own loggers
also at DEBUG so that we can see the records emitted while an event is handled carry its
correlation id. A policy event and a CRM profile (name, birthday) go through; no record at INFO or
above may contain the customer's id, name or birthday.
"""

import io
import json
import logging
import uuid
from collections.abc import Iterator

import pytest

from cli.postgres import EmbeddedPostgres, ExternalPostgres
from services.scoring.config import ScoringSettings
from services.scoring.main import create_app as create_scoring
from services.tiering.config import TieringSettings
from services.tiering.main import create_app as create_tiering
from shared.logs import JsonFormatter
from shared.topics import CUSTOMER_EVENTS, POLICY_EVENTS, TIER_DECISIONS
from tests.builders.policies import policy_event
from tests.support import fresh_id, publish, read_topic, running, service_settings

NAME = "欧阳测试"
BIRTHDAY = "1971-02-03"


@pytest.fixture
def json_logs() -> Iterator[io.StringIO]:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter(service="test"))
    root = logging.getLogger()
    services = logging.getLogger("services")
    saved = (root.level, services.level)
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    services.setLevel(logging.DEBUG)
    try:
        yield stream
    finally:
        root.removeHandler(handler)
        root.setLevel(saved[0])
        services.setLevel(saved[1])


async def test_info_logs_hold_no_customer_data_and_the_correlation_id_follows_the_event(
    postgres: EmbeddedPostgres | ExternalPostgres, database_url: str, bootstrap_servers: str,
    api_tokens: dict[str, str], json_logs: io.StringIO,
) -> None:
    tiering_db = f"t_{uuid.uuid4().hex[:12]}"
    await postgres.create_databases([tiering_db])
    scoring = service_settings(ScoringSettings, database_url=database_url, bootstrap_servers=bootstrap_servers,
                               tokens=api_tokens)
    tiering = service_settings(TieringSettings, database_url=postgres.database_url(tiering_db),
                               bootstrap_servers=bootstrap_servers, tokens=api_tokens)
    customer = fresh_id("C")
    event = policy_event(policy_no=fresh_id("P"), holder_id=customer, modal_premium="36000.00")
    profile = {
        "event_id": uuid.uuid4().hex, "event_type": "customer_upserted", "occurred_at": "2026-10-08T09:00:00+08:00",
        "customer": {"customer_id": customer, "name": NAME, "birthday": BIRTHDAY, "branch": "GD-SZ"},
    }
    # The same policy version again under another event id: scoring finds it stale and says so at
    # DEBUG while handling it, under that event's correlation id.
    repeat = {**event, "event_id": uuid.uuid4().hex}
    key = event["policy"]["policy_no"]
    async with running(create_scoring(scoring), port=scoring.http_port), \
            running(create_tiering(tiering), port=tiering.http_port):
        await publish(bootstrap_servers, CUSTOMER_EVENTS, [(customer, profile)])
        await publish(bootstrap_servers, POLICY_EVENTS, [(key, event)])
        decided = await read_topic(bootstrap_servers, TIER_DECISIONS, expect=1)
        await publish(bootstrap_servers, POLICY_EVENTS, [(key, repeat)])
        await read_topic(bootstrap_servers, TIER_DECISIONS, expect=2, timeout_s=3)

    assert len(decided) == 1
    assert decided[0].json()["customer_id"] == customer
    assert decided[0].json()["correlation_id"] == event["event_id"], "the correlation id did not follow the event"

    records = [json.loads(line) for line in json_logs.getvalue().splitlines() if line.strip()]
    assert any(record["logger"] == "shared.runtime" for record in records), "nothing was captured"
    at_info = [record for record in records if logging.getLevelName(record["level"]) >= logging.INFO]
    assert at_info
    leaks = [
        record for record in at_info
        if any(secret in json.dumps(record, ensure_ascii=False) for secret in (customer, NAME, BIRTHDAY))
    ]
    assert leaks == []
    stale = [record for record in records if record["logger"] == "services.scoring.handlers"]
    assert stale, "scoring said nothing about the stale repeat"
    assert {record.get("correlation_id") for record in stale} == {repeat["event_id"]}
    assert all(record["level"] == "DEBUG" for record in stale)
