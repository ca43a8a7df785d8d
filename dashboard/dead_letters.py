"""The dead-letter topics read straight from the broker: how many each holds, and the latest ones with
their reasons (headers `dlq.reason`, `dlq.service`, `dlq.source_topic`, `dlq.failed_at`).

The dead letter's value is the original message, which may hold customer data: only its size is
shown.
"""

import asyncio
from dataclasses import dataclass

from aiokafka import AIOKafkaConsumer, TopicPartition

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


async def read_dead_letters(*, bootstrap_servers: str, latest: int = 20, timeout_s: float = 5.0) -> DeadLetterReport:
    """Counts per DLQ topic (end minus beginning offsets) and the `latest` newest dead letters."""
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap_servers, group_id=None, enable_auto_commit=False, fetch_max_wait_ms=20,
        request_timeout_ms=int(timeout_s * 1000) + 1000,
    )
    try:
        async with asyncio.timeout(timeout_s):
            await consumer.start()
            return await _read(consumer, latest=latest)
    finally:
        await consumer.stop()


async def _read(consumer: AIOKafkaConsumer, *, latest: int) -> DeadLetterReport:
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
    waiting: set[TopicPartition] = set()
    for tp in partitions:
        counts[tp.topic] += ends[tp] - beginnings[tp]
        if ends[tp] > beginnings[tp]:
            consumer.seek(tp, max(beginnings[tp], ends[tp] - latest))
            waiting.add(tp)
    letters: list[DeadLetter] = []
    while waiting:
        batch = await consumer.getmany(*waiting, timeout_ms=200)
        for tp, records in batch.items():
            for record in records:
                headers = {name: value for name, value in record.headers}
                letters.append(DeadLetter(
                    topic=tp.topic, partition=tp.partition, offset=record.offset,
                    key=record.key.decode(errors="replace") if record.key else None,
                    size=len(record.value or b""), reason=_header(headers, "dlq.reason"),
                    service=_header(headers, "dlq.service"), source_topic=_header(headers, "dlq.source_topic"),
                    failed_at=_header(headers, "dlq.failed_at"),
                ))
        for tp in list(waiting):
            if await consumer.position(tp) >= ends[tp]:
                waiting.discard(tp)
    letters.sort(key=lambda letter: letter.failed_at, reverse=True)
    return DeadLetterReport(counts=counts, latest=letters[:latest])
