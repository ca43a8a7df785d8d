"""The dead-letter topics read straight from the broker: how many each holds, and the latest ones with
their reasons (headers `dlq.reason`, `dlq.service`, `dlq.source_topic`, `dlq.failed_at`).

The dead letter's value is the original message, which may hold customer data: only its size is
shown.
"""

import asyncio
from dataclasses import dataclass
from typing import Any

from aiokafka import AIOKafkaConsumer, TopicPartition

from dashboard.problems import problem_detail
from shared.topics import DLQ_SUFFIX, all_topics


@dataclass(frozen=True, slots=True)
class DeadLetter:
    topic: str
    partition: int
    offset: int
    key: str | None
    size: int
    reason: str
    service: str
    source_topic: str
    failed_at: str


@dataclass(frozen=True, slots=True)
class DeadLetterReport:
    counts: dict[str, int]
    latest: list[DeadLetter]


def dead_letter_topics() -> list[str]:
    return [topic for topic in all_topics() if topic.endswith(DLQ_SUFFIX)]


def _header(headers: dict[str, bytes], name: str) -> str:
    return headers.get(name, b"").decode(errors="replace")


MAX_PARTITION_FETCH_BYTES = 256 * 1024
"""Per partition and fetch: a dead letter's value is read only for its size, so a topic of large
letters still costs a few fetches of this size, never the topic."""


async def read_dead_letters(*, bootstrap_servers: str, latest: int = 20, timeout_s: float = 5.0) -> DeadLetterReport:
    """Counts per DLQ topic (end minus beginning offsets) and the `latest` newest dead letters.

    Bounded whatever the topics hold: each partition is read from `latest` before its end, so at most
    `latest` letters per partition are fetched, and the whole read gives up after `timeout_s`.
    """
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap_servers, group_id=None, enable_auto_commit=False, fetch_max_wait_ms=20,
        request_timeout_ms=int(timeout_s * 1000) + 1000, max_partition_fetch_bytes=MAX_PARTITION_FETCH_BYTES,
        fetch_max_bytes=4 * MAX_PARTITION_FETCH_BYTES,
    )
    try:
        async with asyncio.timeout(timeout_s):
            await consumer.start()
            return await read_newest(consumer, latest=latest)
    finally:
        await consumer.stop()


def newest_window(*, beginning: int, end: int, latest: int) -> range:
    """The offsets of a partition's `latest` newest records (fewer if it holds fewer)."""
    return range(max(beginning, end - latest), end)


def _letter(tp: TopicPartition, record: Any) -> DeadLetter:
    headers = {name: value for name, value in record.headers}
    return DeadLetter(
        topic=tp.topic, partition=tp.partition, offset=record.offset,
        key=record.key.decode(errors="replace") if record.key else None,
        size=len(record.value or b""), reason=problem_detail(_header(headers, "dlq.reason"), limit=1000),
        service=_header(headers, "dlq.service"), source_topic=_header(headers, "dlq.source_topic"),
        failed_at=_header(headers, "dlq.failed_at"),
    )


async def read_newest(consumer: AIOKafkaConsumer, *, latest: int) -> DeadLetterReport:
    known = await consumer.topics()
    partitions = [
        TopicPartition(topic, partition)
        for topic in dead_letter_topics()
        if topic in known
        for partition in sorted(consumer.partitions_for_topic(topic) or ())
    ]
    counts = {topic: 0 for topic in dead_letter_topics()}
    if not partitions:
        return DeadLetterReport(counts=counts, latest=[])
    consumer.assign(partitions)
    beginnings = await consumer.beginning_offsets(partitions)
    ends = await consumer.end_offsets(partitions)
    windows: dict[TopicPartition, range] = {}
    for tp in partitions:
        counts[tp.topic] += ends[tp] - beginnings[tp]
        window = newest_window(beginning=beginnings[tp], end=ends[tp], latest=latest)
        if window:
            consumer.seek(tp, window.start)
            windows[tp] = window
    letters: list[DeadLetter] = []
    while windows:
        batch = await consumer.getmany(*windows, timeout_ms=200, max_records=latest)
        for tp, records in batch.items():
            wanted = windows.get(tp, range(0))
            letters += [_letter(tp, record) for record in records if record.offset in wanted]
        for tp in list(windows):
            if await consumer.position(tp) >= windows[tp].stop:
                del windows[tp]
                consumer.pause(tp)  # nothing after the window is read, not even letters arriving now
    letters.sort(key=lambda letter: letter.failed_at, reverse=True)
    return DeadLetterReport(counts=counts, latest=letters[:latest])
