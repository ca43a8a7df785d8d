"""Issue 12: hostile input, done for real against one running platform (`vip up`, real PostgreSQL and
Tansu). Every bad message is followed by a control event ON THE SAME PARTITION (same key, explicit
partition): the pipeline keeps flowing when the control customer becomes visible at the call center;
nothing is lost when the bad message is in scoring's durable dead letters with its original bytes.

- a 600 KB `modal_premium`, money with an exponent or 5,000 digits, `version` past int32: dead-lettered
  at decode with a short reason naming the field, no restart; `version` 2147483647 is accepted;
- query bounds (`offset=2**63`): 422; a daily run dated 9999-12-31: 422 naming the latest allowed
  date, and an allowed run is logged with who ran it (`GET /v1/ops/daily-runs`);
- separation of duties in entitlements: self-approval with a two-role token, a concurrent approve
  and reject, a self-reversal and a late reversal;
- the dashboard's 5 MB login (413 at once) and a non-ASCII token (401);
- the audit log records call-center reads (`GET /v1/ops/audit`), and a token over its rate gets 429;
- a holder with 2,000 policies (every partition) holds nobody back: control customers published after
  the holder's 2,000 events are visible within seconds, and the holder's points and tier are right;
- last: a dead letter survives a restart of `vip up` on a fresh (memory-only) broker, and
  `vip dlq replay` sends it back to its ORIGINAL partition (not the one its key hashes to, as a
  librdkafka producer would have chosen) with its original headers.
"""

import asyncio
import hashlib
import subprocess
import time
import uuid
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import orjson
import pytest
from aiokafka import AIOKafkaProducer
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

from cli.daily_run import insurer_today
from cli.layout import dashboard_port
from cli.postgres import EmbeddedPostgres
from shared.topics import AGENT_EVENTS, POLICY_EVENTS
from tests.faults.oracle import publish, read_to_end
from tests.faults.platform import ALL_ROLES_TOKEN, ROLE_TOKENS, ROOT, TOKEN, VIP, FaultPlatform, fault_platform
from tests.faults.workload import PARTITIONS, Message, build_workload, partition_of

pytestmark = pytest.mark.faults

RATE_PER_S = 20


def user_of(token: str) -> str:
    return "user-" + hashlib.sha256(token.encode()).hexdigest()[:12]


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture(scope="module")
async def hostile(embedded_postgres: EmbeddedPostgres, tmp_path_factory: pytest.TempPathFactory,
                  ) -> AsyncIterator[FaultPlatform]:
    env = {"VIP_ALLOW_FUTURE_DAILY_RUN": "false", "VIP_HTTP_RATE_PER_S": str(RATE_PER_S),
           "VIP_HTTP_RATE_BURST": str(2 * RATE_PER_S), "VIP_AUDIT_FLUSH_S": "0.2"}
    async with fault_platform(postgres=embedded_postgres, data_dir=tmp_path_factory.mktemp("hostile"),
                              extra_env=env) as platform:
        await publish(platform.bootstrap_servers, AGENT_EVENTS, build_workload(1, run="H").agents)
        yield platform


def policy_event(customer_id: str, *, version: int = 1, premium: str = "1000000.00", **policy: Any) -> dict[str, Any]:
    """A new_business event of a customer who becomes VIP: one annual premium of a million."""
    state = {
        "policy_no": f"P{customer_id}", "version": version, "holder_id": customer_id, "channel": "agency",
        "branch": "GD-SZ", "agent_id": "A00000", "status": "in_force", "issued_on": "2026-09-01",
        "cooling_off_ends_on": "2026-09-16", "product_type": "participating", "payment_term_years": 10,
        "payment_mode": "annual", "modal_premium": premium, "account_value": "0.00",
        "annuity_converted_premium": "0.00", "premium_waived": False, "paid_up": False, "loan_outstanding": "0.00",
        **policy,
    }
    return {"event_id": f"hostile-{uuid.uuid4().hex}", "event_type": "new_business",
            "occurred_at": "2026-09-20T10:00:00+08:00", "previous_holder_id": None, "policy": state}


async def send(platform: FaultPlatform, messages: list[tuple[bytes, bytes]], *, partition: int,
               headers: list[tuple[str, bytes]] | None = None) -> list[int]:
    """(key, value) pairs to one partition of pas.policy-events, in order; their offsets."""
    producer = AIOKafkaProducer(bootstrap_servers=platform.bootstrap_servers, acks="all",
                                max_request_size=4 * 1024 * 1024, enable_idempotence=False)
    await producer.start()
    try:
        offsets = []
        for key, value in messages:
            sent = await producer.send_and_wait(POLICY_EVENTS, value=value, key=key, partition=partition,
                                                headers=headers or [])
            offsets.append(sent.offset)
        return offsets
    finally:
        await producer.stop()


async def visible(platform: FaultPlatform, customer_id: str, *, timeout_s: float = 60) -> dict[str, Any]:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        answer = await platform.get("entitlements", f"/v1/customers/{customer_id}")
        if answer.status_code == 200 and answer.json().get("tier"):
            body: dict[str, Any] = answer.json()
            return body
        await asyncio.sleep(0.3)
    raise AssertionError(f"{customer_id} did not become visible at the call center within {timeout_s} s")


async def letter_at(platform: FaultPlatform, *, partition: int, offset: int, timeout_s: float = 30) -> dict[str, Any]:
    """Scoring's durable dead letter of pas.policy-events[partition]@offset, shown whole."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        page = (await platform.get("scoring", "/v1/ops/dead-letters",
                                   params={"source_topic": POLICY_EVENTS, "limit": "500"})).json()
        for letter in page["letters"]:
            if (letter["source_partition"], letter["source_offset"]) == (partition, offset):
                shown = await platform.get("scoring", f"/v1/ops/dead-letters/{letter['id']}")
                body: dict[str, Any] = shown.json()
                return body
        await asyncio.sleep(0.3)
    raise AssertionError(f"no dead letter of {POLICY_EVENTS}[{partition}]@{offset} within {timeout_s} s")


async def bad_then_control(platform: FaultPlatform, bad: list[bytes]) -> tuple[list[dict[str, Any]], str]:
    """Each bad value, then a control event, all under one key on its partition: the letters, the control."""
    control = f"HC{uuid.uuid4().hex[:10]}"
    key = f"P{control}".encode()
    partition = partition_of(key.decode())
    offsets = await send(platform, [*((key, value) for value in bad),
                                    (key, orjson.dumps(policy_event(control)))], partition=partition)
    await visible(platform, control)
    letters = [await letter_at(platform, partition=partition, offset=offset) for offset in offsets[:-1]]
    return letters, control


async def test_a_600_kb_premium_is_parked_with_a_short_reason_and_its_partition_keeps_flowing(
    hostile: FaultPlatform,
) -> None:
    garbage = "x" * 600_000
    value = orjson.dumps(policy_event(f"HB{uuid.uuid4().hex[:10]}", premium=garbage))
    [letter], _ = await bad_then_control(hostile, [value])
    assert letter["stage"] == "decode" and "modal_premium" in letter["reason"]
    assert len(letter["reason"]) <= 1000 and "x" * 100 not in letter["reason"]
    assert letter["size"] == len(value) and letter["value"].encode() == value  # the original bytes, kept
    assert hostile.restarts("scoring") == []


async def test_money_with_an_exponent_or_5000_digits_is_refused_at_decode_naming_the_field(
    hostile: FaultPlatform,
) -> None:
    bad = [orjson.dumps(policy_event(f"HM{uuid.uuid4().hex[:10]}", premium=premium))
           for premium in ("1E+50000000", "9" * 5000, "1e3")]
    letters, _ = await bad_then_control(hostile, bad)
    for letter in letters:
        assert letter["stage"] == "decode", letter
        assert "modal_premium" in letter["reason"] and len(letter["reason"]) <= 1000, letter["reason"]
        assert "9" * 100 not in letter["reason"]
    assert await hostile.metric("scoring", "vip_transient_failures_total") == 0
    assert hostile.restarts("scoring") == []


async def test_a_version_at_the_int32_limit_is_applied_and_one_past_it_refused_at_decode(
    hostile: FaultPlatform,
) -> None:
    at_limit = f"HV{uuid.uuid4().hex[:10]}"
    key = f"P{at_limit}".encode()
    await send(hostile, [(key, orjson.dumps(policy_event(at_limit, version=2_147_483_647)))],
               partition=partition_of(key.decode()))
    assert (await visible(hostile, at_limit))["tier"]
    [letter], _ = await bad_then_control(
        hostile, [orjson.dumps(policy_event(f"HW{uuid.uuid4().hex[:10]}", version=2_147_483_648))])
    assert letter["stage"] == "decode" and "version" in letter["reason"], letter["reason"]


@pytest.mark.parametrize("path", ["/v1/representatives", "/v1/customers/unassigned"])
async def test_an_offset_past_any_integer_column_is_a_422_not_a_500(hostile: FaultPlatform, path: str) -> None:
    answer = await hostile.get("assignment", path, params={"offset": str(2**63)})
    assert answer.status_code == 422, answer.text
    assert answer.headers["content-type"].startswith("application/problem+json")
    assert "offset" in answer.text


async def test_a_daily_run_dated_9999_is_refused_naming_the_latest_date_and_an_allowed_one_is_logged(
    hostile: FaultPlatform,
) -> None:
    today = insurer_today(hostile.env)
    latest = (today + timedelta(days=1)).isoformat()
    url = f"{hostile.url('scoring')}/v1/daily-runs"
    refused = await hostile.client.post(url, json={"as_of": "9999-12-31"}, headers=bearer(ROLE_TOKENS["ops"]))
    assert refused.status_code == 422, refused.text
    assert latest in refused.json()["detail"]
    ran = await hostile.client.post(url, json={"as_of": today.isoformat()}, headers=bearer(ROLE_TOKENS["ops"]))
    assert ran.status_code == 200, ran.text
    runs = (await hostile.get("scoring", "/v1/ops/daily-runs")).json()["runs"]
    assert (runs[0]["as_of"], runs[0]["run_by"]) == (today.isoformat(), user_of(ROLE_TOKENS["ops"]))
    assert all(run["as_of"] != "9999-12-31" for run in runs)


async def _entitlements(platform: FaultPlatform, path: str, body: dict[str, Any], *, token: str,
                        **headers: str) -> Any:
    return await platform.client.post(f"{platform.url('entitlements')}{path}", json=body,
                                      headers={**bearer(token), **headers})


async def test_a_two_role_token_cannot_approve_the_branch_contract_it_proposed(hostile: FaultPlatform) -> None:
    vendor = f"V{uuid.uuid4().hex[:8]}"
    hq = ROLE_TOKENS["hq_customer_service"]
    added = await _entitlements(hostile, "/v1/vendors", {"vendor_id": vendor, "name": "Tea"}, token=hq)
    assert added.status_code == 201, added.text
    await _entitlements(hostile, "/v1/contracts", {"service_code": "health_checkup", "vendor_id": vendor,
                                                   "unit_cost": "500.00", "reach": ["BJ-01"]}, token=hq)
    proposed = await _entitlements(hostile, "/v1/contracts", {"service_code": "health_checkup", "vendor_id": vendor,
                                                              "unit_cost": "400.00", "branch": "GD-SZ"},
                                   token=ALL_ROLES_TOKEN)
    assert proposed.status_code == 201, proposed.text
    contract = proposed.json()["contract_id"]
    self_approved = await _entitlements(hostile, f"/v1/contracts/{contract}/decisions", {"decision": "approve"},
                                        token=ALL_ROLES_TOKEN)
    assert self_approved.status_code in (403, 409), self_approved.text


async def test_a_concurrent_approve_and_reject_of_one_featured_service_lets_exactly_one_win(
    hostile: FaultPlatform,
) -> None:
    code = f"hostile_{uuid.uuid4().hex[:8]}"
    registered = await _entitlements(hostile, "/v1/featured-services", {"code": code, "name": "Tea", "branch": "GD-SZ"},
                                     token=ROLE_TOKENS["branch_ops"])
    assert registered.status_code == 201, registered.text
    path = f"/v1/featured-services/{code}/decisions"
    approve, reject = await asyncio.gather(
        _entitlements(hostile, path, {"decision": "approve"}, token=ROLE_TOKENS["hq_customer_service"]),
        _entitlements(hostile, path, {"decision": "reject", "comment": "no"}, token=ALL_ROLES_TOKEN),
    )
    assert sorted([approve.status_code, reject.status_code]) == [200, 409], (approve.text, reject.text)
    winner = approve if approve.status_code == 200 else reject
    listed = (await hostile.client.get(f"{hostile.url('entitlements')}/v1/featured-services",
                                       headers=bearer(ROLE_TOKENS["hq_customer_service"]))).json()
    assert next(f for f in listed["featured_services"] if f["code"] == code)["state"] == winner.json()["state"]


async def _redeemed(platform: FaultPlatform, *, token: str) -> tuple[str, str]:
    customer = f"HR{uuid.uuid4().hex[:10]}"
    key = f"P{customer}".encode()
    await send(platform, [(key, orjson.dumps(policy_event(customer)))], partition=partition_of(key.decode()))
    await visible(platform, customer)
    redeemed = await _entitlements(platform, f"/v1/customers/{customer}/entitlements/green_channel/redemptions", {},
                                   token=token, **{"Idempotency-Key": uuid.uuid4().hex})
    assert redeemed.status_code == 201, redeemed.text
    return customer, redeemed.json()["redemption_id"]


async def test_a_call_center_user_cannot_reverse_their_own_redemption(hostile: FaultPlatform) -> None:
    customer, redemption = await _redeemed(hostile, token=ROLE_TOKENS["call_center"])
    path = f"/v1/customers/{customer}/redemptions/{redemption}/reversal"
    own = await _entitlements(hostile, path, {"reason": "no-show"}, token=ROLE_TOKENS["call_center"])
    assert own.status_code == 403, own.text
    other = await _entitlements(hostile, path, {"reason": "no-show"}, token=TOKEN)
    assert other.status_code == 200, other.text


async def test_a_reversal_after_the_window_is_refused(hostile: FaultPlatform) -> None:
    customer, redemption = await _redeemed(hostile, token=ROLE_TOKENS["call_center"])
    engine = create_async_engine(hostile.postgres.database_url("vip_entitlements"), poolclass=NullPool)
    try:  # the passage of time: the redemption was made 40 days ago
        async with engine.begin() as connection:
            await connection.execute(text(
                "UPDATE redemptions SET redeemed_on = redeemed_on - 40, redeemed_at = redeemed_at - interval '40 days'"
                " WHERE redemption_id = :id"), {"id": redemption})
    finally:
        await engine.dispose()
    late = await _entitlements(hostile, f"/v1/customers/{customer}/redemptions/{redemption}/reversal",
                               {"reason": "no-show"}, token=TOKEN)
    assert late.status_code in (409, 422), late.text


async def _post_5_mb_login(port: int) -> tuple[bytes, int]:
    """A 5 MB form sent as a browser would, its status line read while sending: (status line, bytes sent).

    The dashboard answers 413 and closes once the cap is passed, so a client that waits to finish
    sending sees a reset; reading the answer while still sending is what shows it came at once."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    size = 5 * 1024 * 1024
    writer.write(b"POST /login HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/x-www-form-urlencoded\r\n"
                 + f"Content-Length: {size}\r\n\r\n".encode() + b"token=")
    sent = 0
    answer = asyncio.create_task(reader.readline())
    try:
        while sent < size and not answer.done():
            writer.write(b"a" * 65_536)
            sent += 65_536
            try:
                await asyncio.wait_for(writer.drain(), timeout=0.05)
            except (TimeoutError, ConnectionError):
                await asyncio.sleep(0.01)
        return await asyncio.wait_for(answer, timeout=5), sent
    finally:
        writer.close()


async def test_the_dashboard_refuses_a_5_mb_login_at_once_and_a_non_ascii_token_with_401(
    hostile: FaultPlatform,
) -> None:
    port = dashboard_port(base=hostile.http_base)
    started = time.monotonic()
    status_line, sent = await _post_5_mb_login(port)
    assert status_line.split()[1] == b"413", status_line
    assert time.monotonic() - started < 2 and sent < 5 * 1024 * 1024
    foreign = await hostile.client.post(f"http://127.0.0.1:{port}/login", content="token=令牌ü".encode(),
                                        headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert foreign.status_code == 401


async def test_call_center_reads_are_audited_and_a_token_over_its_rate_gets_429(hostile: FaultPlatform) -> None:
    customer = f"HA{uuid.uuid4().hex[:10]}"
    key = f"P{customer}".encode()
    await send(hostile, [(key, orjson.dumps(policy_event(customer)))], partition=partition_of(key.decode()))
    await visible(hostile, customer)
    agent = ROLE_TOKENS["call_center"]
    lookup = f"{hostile.url('entitlements')}/v1/customers/{customer}"
    looked_up = await hostile.client.get(lookup, headers=bearer(agent))
    assert looked_up.status_code == 200
    entries: list[dict[str, Any]] = []
    for _ in range(50):
        audit = await hostile.get("entitlements", "/v1/ops/audit", params={"subject_id": customer})
        entries = audit.json()["entries"]
        if any(entry["user_id"] == user_of(agent) for entry in entries):
            break
        await asyncio.sleep(0.2)
    read = next(entry for entry in entries if entry["user_id"] == user_of(agent))
    assert (read["method"], read["route"], read["status"]) == ("GET", "/v1/customers/{customer_id}", 200)
    assert agent not in str(entries)  # the token itself is never stored

    # The bucket lets at most the burst plus what refills while the requests come through: on a
    # slow (loaded) machine fewer are refused, never more are let through.
    started = time.monotonic()
    burst = await asyncio.gather(*(hostile.client.get(lookup, headers=bearer(agent)) for _ in range(15 * RATE_PER_S)))
    elapsed = time.monotonic() - started
    statuses = [answer.status_code for answer in burst]
    let_through = 2 * RATE_PER_S + RATE_PER_S * elapsed + 1
    assert statuses.count(200) <= let_through, (statuses.count(200), elapsed)
    assert set(statuses) <= {200, 429}
    if len(statuses) > let_through:
        assert 429 in statuses
    assert all(answer.headers.get("retry-after") for answer in burst if answer.status_code == 429)
    assert (await hostile.get("entitlements", f"/v1/customers/{customer}")).status_code == 200  # others unaffected


HOLDER_POLICIES = 2_000


async def test_a_holder_with_2000_policies_holds_nobody_back(hostile: FaultPlatform) -> None:
    """Each of the holder's events re-scored every policy they hold and carried them all (quadratic: about
    150 s for 2,000, everyone behind waited); now a batch scores a holder once."""
    holder = f"HH{uuid.uuid4().hex[:10]}"
    policies = [
        Message(key=f"P{holder}-{index:04d}", event_id=None, customer_id=holder, value=orjson.dumps(
            policy_event(holder, premium="36000.00", policy_no=f"P{holder}-{index:04d}")))
        for index in range(HOLDER_POLICIES)
    ]
    controls = [f"HK{uuid.uuid4().hex[:10]}" for _ in range(PARTITIONS)]
    started = time.monotonic()
    await publish(hostile.bootstrap_servers, POLICY_EVENTS, policies)
    await publish(hostile.bootstrap_servers, POLICY_EVENTS, [
        Message(key=f"P{control}", event_id=None, customer_id=control,
                value=orjson.dumps(policy_event(control, premium="36000.00"))) for control in controls])
    shown = [await visible(hostile, control, timeout_s=30) for control in controls]
    controls_s = time.monotonic() - started
    deadline = time.monotonic() + 60
    expected = f"{36_000 * HOLDER_POLICIES}.00"
    while (answer := await visible(hostile, holder))["points"] != expected or not answer["representative"]:
        assert time.monotonic() < deadline, f"the holder shows {answer} after 60 s"
        await asyncio.sleep(0.5)
    holder_s = time.monotonic() - started

    assert controls_s < 15, f"control customers behind the holder waited {controls_s:.1f} s"
    assert holder_s < 20, f"the holder's 2,000 policies took {holder_s:.1f} s"
    assert answer["tier"] == "diamond" and {body["tier"] for body in shown} == {"gold"}
    assert answer["representative"]["agent_id"] == "A00000"  # the agent who sold every policy
    assert hostile.restarts("scoring") == []


async def test_zz_a_dead_letter_survives_a_restart_and_is_replayed_to_its_original_partition_with_its_headers(
    hostile: FaultPlatform,
) -> None:
    key = f"PHD{uuid.uuid4().hex[:10]}"
    original = (partition_of(key) + 3) % PARTITIONS  # where librdkafka's hashing put it, not aiokafka's
    headers = [("traceparent", b"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"), ("producer", b"pas")]
    [offset] = await send(hostile, [(key.encode(), b"\x00\xff not json {")], partition=original, headers=headers)
    letter = await letter_at(hostile, partition=original, offset=offset)

    await hostile.restart_on_a_fresh_broker()
    assert await read_to_end(hostile.bootstrap_servers, f"{POLICY_EVENTS}.dlq") == []  # the broker kept nothing
    kept = await hostile.get("scoring", f"/v1/ops/dead-letters/{letter['id']}")
    assert kept.status_code == 200 and kept.json()["source_partition"] == original

    replayed = await asyncio.to_thread(
        subprocess.run,
        [VIP, "dlq", "replay", f"scoring:{letter['id']}", "--http-port-base", str(hostile.http_base), "--token", TOKEN],
        cwd=ROOT, capture_output=True, text=True, timeout=60, check=False, env=hostile.env,
    )
    assert replayed.returncode == 0, replayed.stdout + replayed.stderr
    assert f"-> {POLICY_EVENTS}[{original}]" in replayed.stdout
    records = [r for r in await read_to_end(hostile.bootstrap_servers, POLICY_EVENTS) if r.key == key.encode()]
    assert [r.partition for r in records] == [original]
    record_headers = dict(records[0].headers)
    assert {name: record_headers.get(name) for name, _ in headers} == dict(headers)
    assert record_headers["dlq.replayed_from"] == f"{POLICY_EVENTS}:{original}:{offset}".encode()
    assert records[0].value == b"\x00\xff not json {"
    marked = (await hostile.get("scoring", f"/v1/ops/dead-letters/{letter['id']}")).json()
    assert marked["replays"] == 1 and marked["last_replayed_at"]
