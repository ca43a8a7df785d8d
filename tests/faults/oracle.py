"""The oracle of every fault test: the source remembers what it published; at the end every event has
been applied exactly once by every service, and the call-center answers equal a fault-free run's.

"Applied" is read from each service's inbox through `GET /v1/ops/inbox`: the inbox row of an event is
committed in the transaction that commits its effects, and its primary key (topic, event id) admits
an event once. So a service has applied every event exactly once when its inbox for a topic holds
exactly the distinct event ids on that topic: the test compares the count and an MD5 digest of the
sorted ids with what it published (`pas.policy-events`) or reads back from the topic (internal
topics, where a relay retry may have written an event twice under one id).
"""

import asyncio
import hashlib
import os
import time
from collections.abc import Awaitable, Callable, Coroutine, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import httpx
import orjson
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.structs import ConsumerRecord

from shared.topics import AGENT_EVENTS, CUSTOMER_SCORES, POLICY_EVENTS, REPRESENTATIVES, TIER_DECISIONS
from tests.faults.platform import FaultPlatform
from tests.faults.workload import Message, Workload

# Which service applies which internal topic (inbound topics are checked against what was published).
INTERNAL_CONSUMERS = {
    CUSTOMER_SCORES: ("tiering",),
    TIER_DECISIONS: ("assignment", "entitlements"),
    REPRESENTATIVES: ("entitlements",),
}
PUBLISHERS = ("scoring", "tiering", "assignment")
Summary = dict[str, dict[str, tuple[int, str]]]


def digest(event_ids: Iterable[str]) -> tuple[int, str]:
    """(count, MD5 of the distinct ids sorted by code point, newline-joined): as `/v1/ops/inbox` computes it."""
    unique = sorted(set(event_ids))
    return len(unique), hashlib.md5("\n".join(unique).encode()).hexdigest()


async def publish(bootstrap_servers: str, topic: str, messages: Sequence[Message], *,
                  rate_per_s: float | None = None) -> None:
    """Publish in order (acks=all); at `rate_per_s` in chunks of 50 if given, else as fast as possible."""
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap_servers, acks="all", linger_ms=5,
                                max_batch_size=262_144)
    await producer.start()
    try:
        started = time.monotonic()
        futures = []
        for index, message in enumerate(messages):
            futures.append(await producer.send(topic, key=message.key.encode(), value=message.value))
            if rate_per_s and index % 50 == 49:
                await asyncio.sleep(max(0.0, started + (index + 1) / rate_per_s - time.monotonic()))
        for future in futures:
            await future
    finally:
        await producer.stop()


async def read_to_end(
    bootstrap_servers: str, topic: str, *, timeout_s: float = 60
) -> list[ConsumerRecord[bytes, bytes]]:
    """Every record on `topic`, from the start to its end as of the first fetch of each partition.

    The end is the high watermark a fetch reports: Tansu answers ListOffsets(latest) with the base
    offset of the last record batch plus one, so `end_offsets()` falls short of the real end.
    """
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap_servers, group_id=None, enable_auto_commit=False,
                                auto_offset_reset="earliest", fetch_max_wait_ms=20, max_poll_records=5000)
    await consumer.start()
    try:
        await consumer._client.force_metadata_update()
        partitions = [TopicPartition(topic, p) for p in sorted(consumer.partitions_for_topic(topic) or ())]
        consumer.assign(partitions)
        await consumer.seek_to_beginning(*partitions)
        records: list[ConsumerRecord[bytes, bytes]] = []
        ends: dict[TopicPartition, int] = {}
        deadline = time.monotonic() + timeout_s
        while len(ends) < len(partitions) or any([await consumer.position(tp) < end for tp, end in ends.items()]):
            if time.monotonic() > deadline:
                raise AssertionError(f"could not read {topic} to its end within {timeout_s} s")
            batch = await consumer.getmany(timeout_ms=200)
            for partition_records in batch.values():
                records.extend(partition_records)
            for tp in partitions:
                highwater = consumer.highwater(tp)
                if tp not in ends and highwater is not None:
                    ends[tp] = highwater
        return records
    finally:
        await consumer.stop()


async def topic_event_ids(bootstrap_servers: str, topic: str) -> list[str]:
    """Every event id on `topic` (a message written twice appears twice)."""
    return [str(orjson.loads(record.value)["event_id"]) for record in await read_to_end(bootstrap_servers, topic)]


@dataclass
class RunResult:
    answers: dict[str, tuple[int, Any]]
    inboxes: Summary
    drain_s: float
    max_stall_s: float
    finished_at: float = 0.0  # time.monotonic() when the last event was seen applied


class Progress:
    """How long the platform went without applying anything new while work remained."""

    def __init__(self) -> None:
        self.last_total = -1
        self.last_change = time.monotonic()
        self.max_stall_s = 0.0

    def observe(self, total: int | None) -> None:
        now = time.monotonic()
        if total is not None and total != self.last_total:
            self.last_total, self.last_change = total, now
        self.max_stall_s = max(self.max_stall_s, now - self.last_change)


async def _summary(platform: FaultPlatform) -> Summary | None:
    try:
        return await platform.inboxes()
    except (httpx.HTTPError, KeyError):
        return None  # a service restarting or its database away: no reading this time


async def _complete(platform: FaultPlatform, summary: Summary, *, policy_ids: tuple[int, str]) -> bool:
    if summary["scoring"].get(POLICY_EVENTS) != policy_ids:
        return False
    for service in PUBLISHERS:
        if await platform.metric(service, "vip_outbox_backlog") > 0:
            return False
    for topic, consumers in INTERNAL_CONSUMERS.items():
        on_topic = digest(await topic_event_ids(platform.bootstrap_servers, topic))
        if any(summary[service].get(topic, (0, digest([])[1])) != on_topic for service in consumers):
            return False
    return True


async def wait_applied(platform: FaultPlatform, *, policy_event_ids: Iterable[str], timeout_s: float) -> float:
    """Wait until every service applied every event exactly once (two identical readings in a row).

    Returns the longest time nothing new was applied meanwhile.
    """
    expected = digest(policy_event_ids)
    progress = Progress()
    started = time.monotonic()
    deadline = started + timeout_s
    verbose = bool(os.environ.get("VIP_FAULT_VERBOSE"))
    previous: Summary | None = None
    summary: Summary | None = None
    while time.monotonic() < deadline:
        summary = await _summary(platform)
        progress.observe(None if summary is None else sum(n for topics in summary.values() for n, _ in topics.values()))
        if verbose and summary is not None:
            counts = {name: {topic: n for topic, (n, _) in topics.items()} for name, topics in summary.items()}
            print(f"  {time.monotonic() - started:5.1f} s", counts)
        if summary is not None and summary == previous:
            try:
                if await _complete(platform, summary, policy_ids=expected):
                    return progress.max_stall_s
            except httpx.HTTPError:
                pass
        previous = summary
        await asyncio.sleep(0.5)
    raise AssertionError(
        f"not every event applied exactly once within {timeout_s} s; expected {expected[0]} policy events; "
        f"last inboxes {summary}\n{platform.output()[-3000:]}"
    )


async def run_workload(
    platform: FaultPlatform,
    workload: Workload,
    *,
    timeout_s: float = 300,
    rate_per_s: float | None = None,
    fault: Callable[[], Coroutine[Any, Any, None]] | None = None,
    extra: Sequence[Message] = (),
    applied_ids: Iterable[str] | None = None,
) -> RunResult:
    """Agents first (applied before any policy event, so assignment sees the same agents in every
    run), then the policy events with `extra` mixed in (one after every 99), with `fault` running
    alongside; done when the policy events `applied_ids` (default: all of the workload's) are applied."""
    await publish(platform.bootstrap_servers, AGENT_EVENTS, workload.agents)
    agents = len({message.event_id for message in workload.agents})
    await wait_for(lambda: _agents_applied(platform, agents), timeout_s=60, what="agents applied")
    messages = list(workload.policy_events)
    for position, message in enumerate(extra):
        messages.insert(min(len(messages), (position + 1) * 100 - 1), message)
    started = time.monotonic()
    tasks = [asyncio.create_task(publish(platform.bootstrap_servers, POLICY_EVENTS, messages, rate_per_s=rate_per_s))]
    if fault is not None:
        tasks.append(asyncio.create_task(fault()))
    try:
        max_stall = await wait_applied(
            platform, policy_event_ids=workload.event_ids if applied_ids is None else applied_ids, timeout_s=timeout_s
        )
        await asyncio.gather(*tasks)
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
    finished_at = time.monotonic()
    return RunResult(
        answers=await platform.answers(workload.customers),
        inboxes=await platform.inboxes(),
        drain_s=finished_at - started,
        max_stall_s=max_stall,
        finished_at=finished_at,
    )


async def _agents_applied(platform: FaultPlatform, count: int) -> bool:
    try:
        return (await platform.inbox("assignment")).get(AGENT_EVENTS, (0, ""))[0] >= count
    except httpx.HTTPError:
        return False


async def wait_for(check: Callable[[], Awaitable[bool]], *, timeout_s: float, what: str) -> float:
    """Poll `check` every 0.1 s; the seconds it took."""
    started = time.monotonic()
    while time.monotonic() - started < timeout_s:
        if await check():
            return time.monotonic() - started
        await asyncio.sleep(0.1)
    raise AssertionError(f"timed out after {timeout_s} s waiting for {what}")


def assert_same_outcome(result: RunResult, baseline: RunResult) -> None:
    """Every customer's call-center answer and every service's applied events equal the fault-free run's."""
    differing = [c for c in baseline.answers if result.answers.get(c) != baseline.answers[c]]
    assert not differing, (
        f"{len(differing)} of {len(baseline.answers)} customers answer differently from the fault-free run, "
        f"e.g. {differing[0]}: {result.answers.get(differing[0])} instead of {baseline.answers[differing[0]]}"
    )
    assert result.inboxes == baseline.inboxes, "the services applied other events than in the fault-free run"
