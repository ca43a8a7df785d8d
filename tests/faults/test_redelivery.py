"""Issue 8, fault 2: every event delivered twice, including twice inside one batch, and consumer groups
rewound to the start: no effect changes.

The workload (`VIP_FAULT_EVENTS` policy events; the issue's full run is 20,000) is published with
every message sent twice in a row, so both copies land on one partition next to each other and
almost always in the same `getmany` batch (the inbox must de-duplicate inside a batch too). The end
state must equal the fault-free run's.

Then every service's consumer group is rewound to offset 0: the service is frozen (SIGSTOP), a
client joins its group, waits until the group expired the frozen member and handed it every
partition, commits offset 0 everywhere and leaves; the frozen process is then killed, and `vip up`
restarts it: it re-reads every topic from the start. Each restarted service must count every message
it re-read as a duplicate (`vip_events_duplicate_total`), apply nothing (`vip_events_processed_total`
stays 0), and every answer and every inbox must still equal the fault-free run's.
"""

import asyncio
import os
import signal
from dataclasses import replace

import httpx
import pytest
from aiokafka import AIOKafkaConsumer, TopicPartition

from tests.faults.oracle import RunResult, assert_same_outcome, read_to_end, run_workload, wait_for
from tests.faults.platform import SERVICE_NAMES, FaultPlatform
from tests.faults.workload import Workload

pytestmark = pytest.mark.faults


async def _messages(platform: FaultPlatform, topics: list[str]) -> dict[TopicPartition, int]:
    """Messages per partition of `topics`, read to their end."""
    counts: dict[TopicPartition, int] = {}
    for topic in topics:
        for record in await read_to_end(platform.bootstrap_servers, topic):
            tp = TopicPartition(topic, record.partition)
            counts[tp] = counts.get(tp, 0) + 1
    return counts


async def _rewind(platform: FaultPlatform, *, group: str, partitions: list[TopicPartition]) -> None:
    """Join `group` (its own member frozen, so the group hands us every partition) and commit offset 0."""
    consumer = AIOKafkaConsumer(*sorted({tp.topic for tp in partitions}), bootstrap_servers=platform.bootstrap_servers,
                                group_id=group, enable_auto_commit=False, session_timeout_ms=6000,
                                heartbeat_interval_ms=1000, max_poll_records=1)
    await consumer.start()
    try:
        while not set(partitions) <= consumer.assignment():
            await consumer.getmany(timeout_ms=200)
        await consumer.commit(dict.fromkeys(consumer.assignment(), 0))
        committed = {tp: await consumer.committed(tp) for tp in consumer.assignment()}
        assert set(committed.values()) == {0}, committed
    finally:
        await consumer.stop()


async def _consumed_topics(platform: FaultPlatform, service: str) -> list[str]:
    return sorted(await platform.inbox(service))


async def test_events_delivered_twice_and_groups_rewound_change_nothing(
    platform: FaultPlatform, workload: Workload, baseline: RunResult
) -> None:
    twice = replace(
        workload,
        agents=tuple(message for message in workload.agents for _ in range(2)),
        policy_events=tuple(message for message in workload.policy_events for _ in range(2)),
    )
    result = await run_workload(platform, twice)
    assert_same_outcome(result, baseline)
    duplicates = await platform.metric("scoring", "vip_events_duplicate_total", topic="pas.policy-events")
    assert duplicates == len(workload.policy_events), "every second copy is absorbed by the inbox"

    topics = {service: await _consumed_topics(platform, service) for service in SERVICE_NAMES}
    messages = {service: await _messages(platform, topics[service]) for service in SERVICE_NAMES}
    frozen = {service: platform.service_pid(service) for service in SERVICE_NAMES}
    for pid in frozen.values():
        os.kill(pid, signal.SIGSTOP)
    await asyncio.gather(*(
        asyncio.wait_for(_rewind(platform, group=f"vip-{service}", partitions=list(messages[service])), 90)
        for service in SERVICE_NAMES
    ))
    for pid in frozen.values():
        os.kill(pid, signal.SIGKILL)

    async def reread(service: str) -> bool:
        try:
            if platform.service_pid(service) == frozen[service]:
                return False
            counted = await platform.metric(service, "vip_events_duplicate_total")
        except (LookupError, OSError, ValueError, httpx.HTTPError):
            return False  # restarting: not answering yet
        return counted >= sum(messages[service].values())

    for service in SERVICE_NAMES:
        took = await wait_for(lambda service=service: reread(service), timeout_s=120,  # type: ignore[misc]
                              what=f"{service} re-reading its topics from the start")
        assert await platform.metric(service, "vip_events_processed_total") == 0, f"{service} applied an event again"
        assert await platform.metric(service, "vip_events_duplicate_total") == sum(messages[service].values())
        print(f"\n{service}: rewound and re-read {sum(messages[service].values())} messages, all absorbed "
              f"({took:.1f} s after the first waited service)")
    after = RunResult(await platform.answers(workload.customers), await platform.inboxes(), 0, 0)
    assert_same_outcome(after, baseline)
