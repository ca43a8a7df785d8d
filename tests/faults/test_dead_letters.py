"""Issue 8, fault 3: garbage, schema-invalid events and events the database rejects, interleaved 1 in
100: each is parked on `pas.policy-events.dlq` with its reason, nothing blocks a partition for 30 s,
and a parked event can be replayed with `vip dlq replay` once the cause is fixed.

The workload (`VIP_FAULT_EVENTS` valid policy events; the issue's full run is 20,000) gets one bad
message after every 99 good ones, in turn:
- garbage: bytes that are not JSON;
- schema-invalid: JSON whose premium is a number and whose version is text;
- rejected by PostgreSQL for good: valid for the contract, but its holder id holds a NUL character,
  which PostgreSQL refuses in text (SQLSTATE 22021).
On top of that, every event of every 40th customer is refused by a trigger on scoring's `policies`
table (SQLSTATE 23514) for as long as the trigger exists: the database rejecting valid events for a
reason an operator can fix. After the run the test drops the trigger (the fix) and runs
`vip dlq replay --topic pas.policy-events` (the letters scoring keeps in its database, each back to its
partition through scoring's replay endpoint): those customers' events are applied, in order, and the
whole platform then answers exactly as the fault-free run; the bad messages are parked again.

Bounded retries: a poisoned batch is applied once as a batch and then once per event (a
non-transient failure is never retried), so no transient failure is counted and no service
restarts. The longest time in which nothing new was applied stays under 30 s.
"""

import asyncio
import subprocess
import time
from datetime import UTC, datetime

import orjson
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

from shared.topics import POLICY_EVENTS
from tests.faults.oracle import RunResult, assert_same_outcome, read_to_end, run_workload, wait_applied
from tests.faults.platform import ROOT, SERVICE_NAMES, TOKEN, VIP, FaultPlatform
from tests.faults.workload import Message, Workload

pytestmark = pytest.mark.faults

DLQ = f"{POLICY_EVENTS}.dlq"


def _bad_messages(workload: Workload) -> list[Message]:
    template = orjson.loads(workload.policy_events[0].value)
    bad = []
    for index in range(len(workload.policy_events) // 99):
        kind = index % 3
        if kind == 0:
            bad.append(Message(f"garbage-{index}", b"\x00\xff not json {" + str(index).encode(), None, None))
        elif kind == 1:
            invalid = {**template, "event_id": f"invalid-{index}",
                       "policy": {**template["policy"], "version": "first", "modal_premium": 36000}}
            bad.append(Message(f"invalid-{index}", orjson.dumps(invalid), None, None))
        else:
            policy_no = f"PNUL{index}"
            rejected = {**template, "event_id": f"nul-{index}",
                        "policy": {**template["policy"], "policy_no": policy_no, "holder_id": f"C\u0000{index}"}}
            bad.append(Message(policy_no, orjson.dumps(rejected), f"nul-{index}", None))
    return bad


async def _scoring_sql(platform: FaultPlatform, *statements: str) -> None:
    engine = create_async_engine(platform.postgres.database_url("vip_scoring"), poolclass=NullPool)
    try:
        async with engine.begin() as connection:
            for statement in statements:
                await connection.execute(text(statement))
    finally:
        await engine.dispose()


def _refuse(customers: list[str]) -> tuple[str, str]:
    held = ", ".join(f"'{customer}'" for customer in customers)
    return (
        """CREATE FUNCTION fault_refuse() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
          RAISE EXCEPTION 'policy % refused (fault test)', NEW.policy_no USING ERRCODE = 'check_violation';
        END $$""",
        f"""CREATE TRIGGER fault_refuse BEFORE INSERT OR UPDATE ON policies FOR EACH ROW
          WHEN (NEW.holder_id IN ({held})) EXECUTE FUNCTION fault_refuse()""",
    )


async def test_poison_is_parked_with_its_reason_and_replayed_once_fixed(
    platform: FaultPlatform, workload: Workload, baseline: RunResult
) -> None:
    refused = list(workload.customers[::40])
    refused_ids = [m.event_id for m in workload.policy_events if m.customer_id in refused and m.event_id]
    await _scoring_sql(platform, *_refuse(refused))
    bad = _bad_messages(workload)
    started_at = datetime.now(UTC)

    result = await run_workload(platform, workload, extra=bad, applied_ids=set(workload.event_ids) - set(refused_ids))

    assert result.max_stall_s < 30, f"nothing applied for {result.max_stall_s:.1f} s"
    kept = [c for c in workload.customers if c not in refused]
    partial = RunResult({c: baseline.answers[c] for c in kept}, {}, 0, 0)
    assert_same_outcome(RunResult({c: result.answers[c] for c in kept}, {}, 0, 0), partial)
    letters = await read_to_end(platform.bootstrap_servers, DLQ)
    expected = len(bad) + len(refused_ids)
    assert len(letters) == expected
    reasons = {
        str(orjson.loads(r.value)["event_id"]) if r.value.startswith(b"{") else (r.key or b"").decode():
        dict(r.headers)["dlq.reason"].decode() for r in letters
    }
    for message in bad:
        reason = reasons[message.event_id or message.key]
        if message.key.startswith("garbage"):
            assert "JSON" in reason or "json" in reason, reason
        elif message.key.startswith("invalid"):
            assert "version" in reason and "modal_premium" in reason, reason
        else:
            assert reason.startswith("rejected while applying") and "0x00" in reason, reason
    for event_id in refused_ids:
        assert "refused (fault test)" in reasons[event_id], reasons[event_id]
    for record in letters:
        headers = dict(record.headers)
        assert headers["dlq.source_topic"] == POLICY_EVENTS.encode() and headers["dlq.service"] == b"scoring"
        assert headers["dlq.source_partition"] == str(record.partition).encode()  # the key keeps the partition
    assert await platform.metric("scoring", "vip_events_dead_lettered_total") == expected
    assert await platform.metric("scoring", "vip_transient_failures_total") == 0
    assert not any(platform.restarts(service) for service in SERVICE_NAMES)

    await _scoring_sql(platform, "DROP TRIGGER fault_refuse ON policies")
    started = time.monotonic()
    replayed = await asyncio.to_thread(
        subprocess.run,
        [VIP, "dlq", "replay", "--topic", POLICY_EVENTS, "--http-port-base", str(platform.http_base),
         "--token", TOKEN, "--since", started_at.isoformat()],
        cwd=ROOT, capture_output=True, text=True, timeout=120, check=False,
    )
    assert replayed.returncode == 0, replayed.stdout + replayed.stderr
    assert f"replayed {expected} message(s) to {POLICY_EVENTS}" in replayed.stdout, replayed.stdout
    await wait_applied(platform, policy_event_ids=workload.event_ids, timeout_s=120)
    print(f"\npoison: {expected} parked ({len(bad)} bad, {len(refused_ids)} refused by the database); "
          f"longest stall {result.max_stall_s:.1f} s; all applied in {result.drain_s:.1f} s "
          f"(fault-free {baseline.drain_s:.1f} s); replay applied in {time.monotonic() - started:.1f} s")
    after = RunResult(await platform.answers(workload.customers), await platform.inboxes(), 0, 0)
    assert_same_outcome(after, baseline)
    assert len(await read_to_end(platform.bootstrap_servers, DLQ)) == expected + len(bad)


def test_the_dlq_command_is_registered() -> None:
    shown = subprocess.run([VIP, "dlq", "replay", "--help"], capture_output=True, text=True, check=False)
    assert shown.returncode == 0 and "--since" in shown.stdout and "--limit" in shown.stdout
    refused = subprocess.run([VIP, "dlq", "replay", "--topic", DLQ], capture_output=True, text=True, check=False)
    assert refused.returncode != 0 and "name the source topic" in refused.stderr

