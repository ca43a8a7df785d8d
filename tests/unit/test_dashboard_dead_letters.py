"""The dead-letter panel reads only the newest letters of each partition, however many the topic
holds, against a consumer that records what it was asked to fetch."""

from dataclasses import dataclass, field

from aiokafka import TopicPartition

from dashboard.dead_letters import dead_letter_topics, newest_window, read_newest


@dataclass
class _Record:
    offset: int
    key: bytes | None
    value: bytes
    headers: list[tuple[str, bytes]]


@dataclass
class _Consumer:
    """The part of AIOKafkaConsumer the panel uses, over records held in memory."""

    log: dict[TopicPartition, list[_Record]]
    beginning: dict[TopicPartition, int]
    positions: dict[TopicPartition, int] = field(default_factory=dict)
    paused: set[TopicPartition] = field(default_factory=set)
    fetched: int = 0

    async def topics(self) -> set[str]:
        return {tp.topic for tp in self.log}

    def partitions_for_topic(self, topic: str) -> set[int]:
        return {tp.partition for tp in self.log if tp.topic == topic}

    def assign(self, partitions: list[TopicPartition]) -> None:
        self.positions = {tp: self.beginning[tp] for tp in partitions}

    async def beginning_offsets(self, partitions: list[TopicPartition]) -> dict[TopicPartition, int]:
        return {tp: self.beginning[tp] for tp in partitions}

    async def end_offsets(self, partitions: list[TopicPartition]) -> dict[TopicPartition, int]:
        return {tp: self.beginning[tp] + len(self.log[tp]) for tp in partitions}

    def seek(self, tp: TopicPartition, offset: int) -> None:
        self.positions[tp] = offset

    def pause(self, tp: TopicPartition) -> None:
        self.paused.add(tp)

    async def position(self, tp: TopicPartition) -> int:
        return self.positions[tp]

    async def getmany(
        self, *partitions: TopicPartition, timeout_ms: int, max_records: int
    ) -> dict[TopicPartition, list[_Record]]:
        batch = {}
        for tp in partitions:
            if tp in self.paused:
                continue
            start = self.positions[tp] - self.beginning[tp]
            records = self.log[tp][start:start + max_records]
            self.positions[tp] += len(records)
            self.fetched += len(records)
            batch[tp] = records
        return batch


def _letters(tp: TopicPartition, *, first: int, count: int) -> list[_Record]:
    return [
        _Record(offset=offset, key=f"c-{offset}".encode(), value=b"x" * 1000, headers=[
            ("dlq.reason", b"poison: unknown event type"), ("dlq.service", b"tiering"),
            ("dlq.source_topic", tp.topic.removesuffix(".dlq").encode()),
            ("dlq.failed_at", f"2026-01-01T00:00:00.{offset:06d}+00:00".encode()),
        ])
        for offset in range(first, first + count)
    ]


async def test_a_dlq_of_ten_thousand_letters_costs_the_newest_twenty_not_the_topic() -> None:
    topic = dead_letter_topics()[0]
    big, small = TopicPartition(topic, 0), TopicPartition(topic, 1)
    consumer = _Consumer(
        log={big: _letters(big, first=500, count=10_000), small: _letters(small, first=0, count=3)},
        beginning={big: 500, small: 0},
    )
    report = await read_newest(consumer, latest=20)  # type: ignore[arg-type]
    assert report.counts[topic] == 10_003
    assert consumer.fetched <= 20 + 3
    assert [letter.offset for letter in report.latest] == list(range(10_499, 10_479, -1))
    assert report.latest[0].reason == "poison: unknown event type"
    assert report.latest[0].size == 1000
    assert set(report.counts) == set(dead_letter_topics())


async def test_no_dead_letters_reads_nothing() -> None:
    consumer = _Consumer(log={}, beginning={})
    report = await read_newest(consumer, latest=20)  # type: ignore[arg-type]
    assert report.latest == [] and sum(report.counts.values()) == 0


def test_the_newest_window_never_reaches_before_the_beginning() -> None:
    assert newest_window(beginning=100, end=10_000, latest=20) == range(9_980, 10_000)
    assert newest_window(beginning=100, end=105, latest=20) == range(100, 105)
    assert not newest_window(beginning=7, end=7, latest=20)


async def test_a_reason_written_as_a_problem_body_is_shown_by_its_sentence() -> None:
    tp = TopicPartition(dead_letter_topics()[0], 0)
    letter = _letters(tp, first=0, count=1)[0]
    problem = b'{"type":"about:blank","title":"invalid","status":422,"detail":"unknown tier X","reason":"invalid"}'
    letter.headers[0] = ("dlq.reason", problem)
    report = await read_newest(_Consumer(log={tp: [letter]}, beginning={tp: 0}), latest=20)  # type: ignore[arg-type]
    assert report.latest[0].reason == "unknown tier X (invalid)"
