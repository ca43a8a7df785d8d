"""Issue 8, faults 4 and 5: PostgreSQL stopped for 30 s, and the broker frozen for 30 s, mid-run.

Both run the workload (`VIP_FAULT_EVENTS` policy events, the issue's full run is 20,000) published
at a steady rate over about 13 s, so that the outage (after 4 s) falls in the middle of the run, and
both end with the oracle: every event applied exactly once by every service, every answer as in the fault-free run.

PostgreSQL (`EmbeddedPostgres.stop_server`, a fast shutdown, then `start_server` on the same data):
- no offset is committed for work that was not persisted: the committed offsets of every service's
  consumer group do not move while the database is down (read from the broker, from outside the
  groups) and, at the end, no event is missing;
- the call-center API answers 503 within 3 s while the database is down instead of hanging;
- the backlog drains once the database is back, without anyone restarting anything.

The broker (`TansuBroker.pause`: SIGSTOP, then SIGCONT): everything resumes by itself.
"""

import asyncio
import time

import pytest
from aiokafka import AIOKafkaConsumer, TopicPartition

from cli.layout import SERVICES
from shared.topics import AGENT_EVENTS, CUSTOMER_SCORES, POLICY_EVENTS, REPRESENTATIVES, TIER_DECISIONS
from tests.faults.oracle import RunResult, assert_same_outcome, run_workload
from tests.faults.platform import FaultPlatform
from tests.faults.workload import Workload

pytestmark = pytest.mark.faults

OUTAGE_S = 30
CONSUMED = {
    "scoring": [POLICY_EVENTS], "tiering": [CUSTOMER_SCORES], "assignment": [AGENT_EVENTS, TIER_DECISIONS],
    "entitlements": [TIER_DECISIONS, REPRESENTATIVES],
}


def _rate(workload: Workload) -> float:
    return len(workload.policy_events) / 13


async def committed_offsets(platform: FaultPlatform) -> dict[str, dict[TopicPartition, int | None]]:
    """Each service group's committed offsets, fetched without joining the group."""
    offsets: dict[str, dict[TopicPartition, int | None]] = {}
    for service in SERVICES:
        consumer = AIOKafkaConsumer(bootstrap_servers=platform.bootstrap_servers, group_id=f"vip-{service.name}",
                                    enable_auto_commit=False)
        await consumer.start()
        try:
            partitions = [TopicPartition(t, p) for t in CONSUMED[service.name] for p in range(8)]
            offsets[service.name] = {tp: await consumer.committed(tp) for tp in partitions}
        finally:
            await consumer.stop()
    return offsets


async def test_postgres_stopped_for_30_s_mid_run(
    platform: FaultPlatform, workload: Workload, baseline: RunResult
) -> None:
    seen: dict[str, float] = {}
    customer = workload.customers[0]

    async def outage() -> None:
        await asyncio.sleep(4)
        await asyncio.to_thread(platform.postgres.stop_server, mode="fast")
        stopped = time.monotonic()
        try:
            await asyncio.sleep(3)  # a batch persisted just before the stop may still commit its offsets
            before = await committed_offsets(platform)
            assert any(offset for offset in before["scoring"].values()), "scoring had committed nothing yet"
            timings = []
            for _ in range(3):
                started = time.monotonic()
                answer = await platform.get("entitlements", f"/v1/customers/{customer}", timeout=10)
                timings.append(time.monotonic() - started)
                assert answer.status_code == 503, answer.text
            seen["slowest_503_s"] = max(timings)
            await asyncio.sleep(max(0.0, stopped + OUTAGE_S - time.monotonic()))
            after = await committed_offsets(platform)
            assert after == before, "offsets were committed while the database was down"
        finally:
            await asyncio.to_thread(platform.postgres.start_server)
            seen["restarted"] = time.monotonic()

    async with platform.watching_downtime() as downtime:
        result = await run_workload(platform, workload, rate_per_s=_rate(workload), fault=outage)

    assert seen["slowest_503_s"] < 3, f"a request took {seen['slowest_503_s']:.1f} s to answer 503"
    assert_same_outcome(result, baseline)
    print(f"\npostgres down {OUTAGE_S} s: 503 within {seen['slowest_503_s'] * 1000:.0f} ms; backlog drained "
          f"{result.finished_at - seen['restarted']:.1f} s after it came back; all applied {result.drain_s:.1f} s "
          f"after the run began (fault-free {baseline.drain_s:.1f} s at full speed, "
          f"13 s to publish at {_rate(workload):.0f}/s); not ready: {downtime.summary()}")


async def test_broker_frozen_for_30_s_mid_run(
    platform: FaultPlatform, workload: Workload, baseline: RunResult
) -> None:
    resumed: list[float] = []

    async def freeze() -> None:
        await asyncio.sleep(4)
        platform.broker.pause()
        try:
            await asyncio.sleep(OUTAGE_S)
        finally:
            platform.broker.resume()
            resumed.append(time.monotonic())

    async with platform.watching_downtime() as downtime:
        result = await run_workload(platform, workload, rate_per_s=_rate(workload), fault=freeze)
    assert_same_outcome(result, baseline)
    print(f"\nbroker frozen {OUTAGE_S} s: backlog drained {result.finished_at - resumed[0]:.1f} s after SIGCONT; "
          f"all applied {result.drain_s:.1f} s after the run began "
          f"(fault-free {baseline.drain_s:.1f} s); not ready: {downtime.summary()}")
