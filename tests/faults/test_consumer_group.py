"""Issue 8, fault 6: two instances of one service in a consumer group, one killed mid-run: the other
takes its partitions; nothing lost, nothing doubled.

Beside the scoring process `vip up` runs, the test starts a second scoring process (same database,
same consumer group `vip-scoring`, its own HTTP port). Once the group has split the partitions
between the two and the second instance is applying events, the test kills it with SIGKILL (it is
not supervised, so it stays dead). The surviving instance must take over its partitions after the
session timeout and re-read what the dead one applied without committing its offsets. The workload
(`VIP_FAULT_EVENTS` policy events, the issue's full run is 20,000) is published steadily over 20 s
so the kill falls mid-run; the oracle: every event applied exactly once by every service (the inbox
holds each event id once, so a redelivered event is not applied twice) and every answer as in the
fault-free run.
"""

import os
import signal
import sys
import time

import httpx
import pytest

from shared.topics import POLICY_EVENTS
from tests.faults.oracle import RunResult, assert_same_outcome, run_workload, wait_for
from tests.faults.platform import FaultPlatform, spawn
from tests.faults.workload import Workload

pytestmark = pytest.mark.faults


async def test_a_second_instance_killed_mid_run_hands_its_partitions_over(
    platform: FaultPlatform, workload: Workload, baseline: RunResult
) -> None:
    port = platform.http_base + 5
    env = {**platform.env, "VIP_SERVICE_NAME": "scoring", "VIP_HTTP_PORT": str(port),
           "VIP_DATABASE_URL": platform.postgres.database_url("vip_scoring"), "PYTHONUNBUFFERED": "1"}
    env.pop("VIP_FAULT_CRASH_AT", None)
    log_path = platform.data_dir / "logs" / "scoring-second.log"
    second = spawn([sys.executable, "-m", "services.scoring.main"], env=env, log_path=log_path)
    seen: dict[str, float] = {}
    try:
        async def processed_by_second() -> float:
            try:
                response = await platform.client.get(f"http://127.0.0.1:{port}/metrics")
            except httpx.HTTPError:
                return 0.0
            return sum(float(line.rsplit(" ", 1)[1]) for line in response.text.splitlines()
                       if line.startswith("vip_events_processed_total{") and POLICY_EVENTS in line)

        async def second_applies() -> bool:
            return await processed_by_second() > 0

        async def kill_second_mid_run() -> None:
            await wait_for(lambda: _ready(platform, port), timeout_s=60, what="the second scoring instance")
            await wait_for(second_applies, timeout_s=60, what="the second instance applying events")
            seen["second_applied"] = await processed_by_second()
            os.kill(second.pid, signal.SIGKILL)
            seen["killed"] = time.monotonic()
            seen["first_before"] = await platform.metric("scoring", "vip_events_processed_total", topic=POLICY_EVENTS)

        rate = len(workload.policy_events) / 20
        result = await run_workload(platform, workload, rate_per_s=rate, fault=kill_second_mid_run)
    finally:
        if second.poll() is None:
            second.kill()
        second.wait(timeout=10)

    assert second.returncode == -signal.SIGKILL
    first_total = await platform.metric("scoring", "vip_events_processed_total", topic=POLICY_EVENTS)
    assert 0 < seen["second_applied"] < len(workload.policy_events)
    assert first_total > seen["first_before"], "the surviving instance applied nothing after the kill"
    assert first_total + seen["second_applied"] <= len(workload.policy_events), "an event was applied twice"
    assert "partitions assigned" in log_path.read_text(errors="replace")
    assert_same_outcome(result, baseline)
    print(f"\ntwo scoring instances: the second applied {seen['second_applied']:.0f} events before kill -9; "
          f"the first applied {first_total:.0f}; all applied {result.finished_at - seen['killed']:.1f} s after "
          f"the kill ({result.drain_s:.1f} s after the run began, 20 s to publish)")


async def _ready(platform: FaultPlatform, port: int) -> bool:
    try:
        return (await platform.client.get(f"http://127.0.0.1:{port}/readyz", timeout=2)).status_code == 200
    except httpx.HTTPError:
        return False
