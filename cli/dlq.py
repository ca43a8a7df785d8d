"""`vip dlq replay`: send parked messages back to the topic they came from, once the cause is fixed.

A dead letter's value is the original message, byte for byte, and its key the original key; headers
say why and where it failed (`shared/dead_letters.py`). Replaying re-publishes value and key to the
source topic, so the message takes the normal path again: applied if the cause is gone, parked again
(with a new reason) if not. Replaying twice is harmless for events that were applied: the services'
inboxes recognise their event ids. The dead-letter topic itself is left as it is (it is the record).
"""

import asyncio
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime

import click

from cli.layout import DEFAULT_BOOTSTRAP_SERVERS
from shared.dead_letters import FAILED_AT, REASON, SOURCE_OFFSET, SOURCE_PARTITION, SOURCE_TOPIC
from shared.topics import DLQ_SUFFIX, dead_letter_topic_for

REPLAYED_FROM = "dlq.replayed_from"


@dataclass(frozen=True)
class DeadLetter:
    partition: int
    offset: int
    key: bytes | None
    value: bytes
    headers: dict[str, str]

    @property
    def failed_at(self) -> datetime | None:
        raw = self.headers.get(FAILED_AT)
        try:
            return datetime.fromisoformat(raw) if raw else None
        except ValueError:
            return None

    @property
    def reason(self) -> str:
        return self.headers.get(REASON, "(no reason recorded)")


def parse_since(raw: str) -> datetime:
    """A date (midnight UTC) or an ISO date-time (UTC if it names no offset)."""
    try:
        moment = datetime.fromisoformat(raw)
    except ValueError:
        moment = datetime.combine(date.fromisoformat(raw), datetime.min.time())
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def select_for_replay(
    letters: list[DeadLetter], *, source_topic: str, since: datetime | None, limit: int | None
) -> list[DeadLetter]:
    """The letters from `source_topic` parked at or after `since`, oldest first, at most `limit`.

    One key's messages share a partition, where they were parked in order; sorting by failure time,
    then partition and offset, keeps that order.
    """
    earliest = datetime.min.replace(tzinfo=UTC)
    chosen = [
        letter for letter in letters
        if letter.headers.get(SOURCE_TOPIC, source_topic) == source_topic
        and (since is None or (letter.failed_at is not None and letter.failed_at >= since))
    ]
    chosen.sort(key=lambda letter: (letter.failed_at or earliest, letter.partition, letter.offset))
    return chosen if limit is None else chosen[:limit]


async def read_dead_letters(*, bootstrap_servers: str, topic: str, timeout_s: float = 60) -> list[DeadLetter]:
    """Every record of the dead-letter topic, from its start to its end as of the first fetch.

    The end is taken from the fetch's high watermark rather than ListOffsets, which the embedded
    Tansu broker answers short (the base offset of the last batch).
    """
    from aiokafka import AIOKafkaConsumer, TopicPartition

    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap_servers, client_id="vip-dlq", group_id=None, enable_auto_commit=False,
        auto_offset_reset="earliest", fetch_max_wait_ms=50,
    )
    await consumer.start()
    try:
        await consumer._client.force_metadata_update()
        partitions = [TopicPartition(topic, p) for p in sorted(consumer.partitions_for_topic(topic) or ())]
        if not partitions:
            raise click.ClickException(f"topic {topic} does not exist on {bootstrap_servers}")
        consumer.assign(partitions)
        await consumer.seek_to_beginning(*partitions)
        letters: list[DeadLetter] = []
        ends: dict[TopicPartition, int] = {}
        deadline = time.monotonic() + timeout_s
        while len(ends) < len(partitions) or any([await consumer.position(tp) < end for tp, end in ends.items()]):
            if time.monotonic() > deadline:
                raise click.ClickException(f"could not read {topic} to its end within {timeout_s:g} s")
            batch = await consumer.getmany(timeout_ms=200)
            for records in batch.values():
                letters.extend(
                    DeadLetter(
                        partition=record.partition, offset=record.offset, key=record.key, value=record.value or b"",
                        headers={name: value.decode(errors="replace") for name, value in record.headers},
                    )
                    for record in records
                )
            for tp in partitions:
                highwater = consumer.highwater(tp)
                if tp not in ends and highwater is not None:
                    ends[tp] = highwater
        return letters
    finally:
        await consumer.stop()


async def replay(
    *, bootstrap_servers: str, source_topic: str, since: datetime | None, limit: int | None, dry_run: bool,
    report: Callable[[str], None],
) -> list[DeadLetter]:
    """Re-publish the chosen dead letters to `source_topic`; the letters chosen."""
    from aiokafka import AIOKafkaProducer

    dead_letter_topic = dead_letter_topic_for(source_topic)
    letters = await read_dead_letters(bootstrap_servers=bootstrap_servers, topic=dead_letter_topic)
    chosen = select_for_replay(letters, source_topic=source_topic, since=since, limit=limit)
    report(f"{len(letters)} message(s) parked on {dead_letter_topic}; {len(chosen)} chosen for replay")
    for reason, count in Counter(letter.reason for letter in chosen).most_common(10):
        report(f"  {count:>6}  {reason[:160]}")
    if dry_run or not chosen:
        return chosen
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap_servers, client_id="vip-dlq", acks="all", linger_ms=5)
    await producer.start()
    try:
        futures = [
            await producer.send(
                source_topic, value=letter.value, key=letter.key,
                headers=[(REPLAYED_FROM, f"{dead_letter_topic}[{letter.partition}]@{letter.offset}".encode()),
                         (SOURCE_PARTITION, letter.headers.get(SOURCE_PARTITION, "").encode()),
                         (SOURCE_OFFSET, letter.headers.get(SOURCE_OFFSET, "").encode())],
            )
            for letter in chosen
        ]
        await asyncio.gather(*futures)
    finally:
        await producer.stop()
    return chosen


@click.group("dlq")
def dlq_command() -> None:
    """Dead-letter topics (`<topic>.dlq`): messages a service could not apply, with the reason."""


@dlq_command.command("replay")
@click.option("--topic", required=True, help="The source topic, e.g. pas.policy-events (not the .dlq one).")
@click.option(
    "--bootstrap-servers", envvar="VIP_KAFKA_BOOTSTRAP_SERVERS", default=DEFAULT_BOOTSTRAP_SERVERS,
    show_default=True, help="Kafka bootstrap servers (env VIP_KAFKA_BOOTSTRAP_SERVERS).",
)
@click.option("--since", "since_text", help="Only letters parked at or after this date or ISO date-time (UTC).")
@click.option("--limit", type=click.IntRange(min=1), help="At most this many letters, oldest first.")
@click.option("--dry-run", is_flag=True, help="List what would be replayed; send nothing.")
def replay_command(topic: str, bootstrap_servers: str, since_text: str | None, limit: int | None,
                   dry_run: bool) -> None:
    """Re-publish parked messages of TOPIC's dead-letter topic to TOPIC, unchanged, once fixed.

    Each message goes back with its original key (so it lands on its original partition, in order
    with its key's other messages) and its original bytes. What still fails is parked again with
    its new reason; what was already applied is recognised by the services' inboxes and skipped.
    """
    if topic.endswith(DLQ_SUFFIX):
        raise click.BadParameter(f"name the source topic, not {topic}", param_hint="--topic")
    try:
        since = parse_since(since_text) if since_text else None
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--since") from exc
    from aiokafka.errors import KafkaError

    try:
        chosen = asyncio.run(replay(
            bootstrap_servers=bootstrap_servers, source_topic=topic, since=since, limit=limit, dry_run=dry_run,
            report=click.echo,
        ))
    except KafkaError as exc:
        raise click.ClickException(f"replaying via {bootstrap_servers} failed: {exc!r}") from exc
    verb = "would replay" if dry_run else "replayed"
    click.echo(f"{verb} {len(chosen)} message(s) to {topic}")
