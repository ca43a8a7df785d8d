"""Parking messages we cannot apply: in the service's own database first, then on `<topic>.dlq`.

The database copy (`dead_letters`) is the durable record: the original bytes and headers, the
reason, the source topic, partition and offset, kept across broker restarts and retention; `vip dlq`
lists and replays from it. The topic copy's value is the original bytes, unchanged, so a replay is a
plain re-publish; why and where it failed travel in headers.

A reason is one line of at most `REASON_LIMIT` characters and never echoes a value whole. A dead
letter the broker refuses for good (too large) is sent as a stub: a small JSON body with the
original's size, SHA-256 and reason; the original bytes stay in the database. Offsets are committed
only after both copies are done, so nothing is lost on the way, and parking the same message again
after a crash adds nothing (unique per source position).
"""

import asyncio
import hashlib
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

import orjson
from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaError
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncEngine

from shared.messaging_tables import DEAD_LETTERS
from shared.metrics import ServiceMetrics
from shared.topics import dead_letter_topic_for

log = logging.getLogger(__name__)

REASON = "dlq.reason"
SERVICE = "dlq.service"
SOURCE_TOPIC = "dlq.source_topic"
SOURCE_PARTITION = "dlq.source_partition"
SOURCE_OFFSET = "dlq.source_offset"
FAILED_AT = "dlq.failed_at"
STUB = "dlq.stub"

REASON_LIMIT = 1000


def sanitized(reason: str) -> str:
    """One line, at most `REASON_LIMIT` characters: safe in a header, a log line and a table cell."""
    line = " ".join(reason.split())
    return line if len(line) <= REASON_LIMIT else line[: REASON_LIMIT - 1] + "…"


@dataclass(frozen=True, slots=True)
class Rejected:
    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes | None
    reason: str
    stage: str  # "decode", "apply" or "publish": what failed
    headers: tuple[tuple[str, bytes], ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "reason", sanitized(self.reason))


def is_refused_for_good(error: BaseException) -> bool:
    """The broker (or the client's own check) will never take this message: retrying cannot help."""
    return isinstance(error, KafkaError) and not getattr(error, "retriable", False)


_RECORD = insert(DEAD_LETTERS).on_conflict_do_nothing(constraint="dead_letters_source")


async def record_dead_letters(engine: AsyncEngine, *, service: str, rejected: Sequence[Rejected]) -> None:
    """The durable copy, in one statement; a letter parked before (a crash, a redelivery) is skipped."""
    if not rejected:
        return
    rows = [
        {
            "service": service, "stage": item.stage, "source_topic": item.topic,
            "source_partition": item.partition, "source_offset": item.offset, "key": item.key,
            "value": item.value, "reason": item.reason,
            "headers": [[name, value.decode("utf-8", "replace")] for name, value in item.headers],
        }
        for item in rejected
    ]
    async with engine.begin() as connection:
        await connection.execute(_RECORD, rows)


class DeadLetters:
    def __init__(
        self, *, producer: AIOKafkaProducer, engine: AsyncEngine, service: str, metrics: ServiceMetrics
    ) -> None:
        self._producer = producer
        self._engine = engine
        self._service = service
        self._metrics = metrics

    async def park(self, rejected: list[Rejected]) -> None:
        """Both copies of every letter: the database's, then the topic's (a stub if refused for good)."""
        await record_dead_letters(self._engine, service=self._service, rejected=rejected)
        for item in rejected:
            log.warning(
                "dead-lettered %s[%d]@%d: %s", item.topic, item.partition, item.offset, item.reason,
                extra={"topic": item.topic, "stage": item.stage},
            )
        futures = [(item, await self._send(item, value=item.value or b"", stub=False)) for item in rejected]
        for item, future in futures:
            try:
                await future
            except KafkaError as error:
                if not is_refused_for_good(error):
                    raise
                await (await self._send(item, value=_stub_of(item), stub=True))

    async def _send(self, item: Rejected, *, value: bytes, stub: bool) -> "asyncio.Future[object]":
        headers = [
            *item.headers,
            (REASON, item.reason.encode()),
            (SERVICE, self._service.encode()),
            (SOURCE_TOPIC, item.topic.encode()),
            (SOURCE_PARTITION, str(item.partition).encode()),
            (SOURCE_OFFSET, str(item.offset).encode()),
            (FAILED_AT, datetime.now(UTC).isoformat().encode()),
        ]
        if stub:
            headers.append((STUB, b"true"))
            self._metrics.dead_letters_stubbed.labels(item.topic).inc()
            log.warning("dead letter of %s[%d]@%d too large for the broker: sent as a stub",
                        item.topic, item.partition, item.offset)
        try:
            future: asyncio.Future[object] = await self._producer.send(
                dead_letter_topic_for(item.topic), value=value, key=item.key, headers=headers
            )
        except KafkaError as error:
            if stub or not is_refused_for_good(error):
                raise
            return await self._send(item, value=_stub_of(item), stub=True)
        return future


def _stub_of(item: Rejected) -> bytes:
    value = item.value or b""
    return orjson.dumps({
        "stub": True, "size": len(value), "sha256": hashlib.sha256(value).hexdigest(), "reason": item.reason,
        "kept_in": "the service database's dead_letters table",
    })
