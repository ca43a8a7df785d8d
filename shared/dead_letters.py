"""Parking messages we cannot apply on `<topic>.dlq`.

The dead letter's value is the original bytes, unchanged, so a replay is a plain re-publish of the
value to the source topic; why and where it failed travel in headers. Offsets are committed only
after the broker has acknowledged the dead letter, so nothing is ever lost on the way.
"""

import logging
from dataclasses import dataclass
from datetime import UTC, datetime

from aiokafka import AIOKafkaProducer

from shared.topics import dead_letter_topic_for

log = logging.getLogger(__name__)

REASON = "dlq.reason"
SERVICE = "dlq.service"
SOURCE_TOPIC = "dlq.source_topic"
SOURCE_PARTITION = "dlq.source_partition"
SOURCE_OFFSET = "dlq.source_offset"
FAILED_AT = "dlq.failed_at"


@dataclass(frozen=True, slots=True)
class Rejected:
    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes | None
    reason: str
    stage: str  # "decode" or "apply": what failed


class DeadLetters:
    def __init__(self, *, producer: AIOKafkaProducer, service: str) -> None:
        self._producer = producer
        self._service = service

    async def park(self, rejected: list[Rejected]) -> None:
        futures = []
        for item in rejected:
            headers = [
                (REASON, item.reason.encode()),
                (SERVICE, self._service.encode()),
                (SOURCE_TOPIC, item.topic.encode()),
                (SOURCE_PARTITION, str(item.partition).encode()),
                (SOURCE_OFFSET, str(item.offset).encode()),
                (FAILED_AT, datetime.now(UTC).isoformat().encode()),
            ]
            log.warning(
                "dead-lettered %s[%d]@%d: %s",
                item.topic, item.partition, item.offset, item.reason,
                extra={"topic": item.topic, "stage": item.stage},
            )
            futures.append(
                await self._producer.send(
                    dead_letter_topic_for(item.topic), value=item.value or b"", key=item.key, headers=headers
                )
            )
        for future in futures:
            await future
