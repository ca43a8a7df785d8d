"""The pipeline's health from the services' `/metrics`: per consumed topic what came in, what was
applied, duplicates, stale events, dead letters and lag; per service the outbox backlog; and event
rates from successive scrapes."""

import time
from collections import deque
from dataclasses import dataclass, field
from itertools import pairwise

from prometheus_client.parser import text_string_to_metric_families

_TOPIC_COUNTERS = {
    "vip_events_consumed_total": "consumed",
    "vip_events_processed_total": "processed",
    "vip_events_duplicate_total": "duplicates",
    "vip_events_stale_total": "stale",
    "vip_events_dead_lettered_total": "dead_lettered",
}


@dataclass
class TopicFlow:
    topic: str
    consumed: float = 0.0
    processed: float = 0.0
    duplicates: float = 0.0
    stale: float = 0.0
    dead_lettered: float = 0.0
    lag: float = 0.0


@dataclass
class ServiceHealth:
    service: str
    up: bool
    outbox_backlog: float = 0.0
    published: float = 0.0
    topics: dict[str, TopicFlow] = field(default_factory=dict)

    @property
    def processed(self) -> float:
        return sum(flow.processed for flow in self.topics.values())

    def as_json(self) -> dict[str, object]:
        return {
            "service": self.service,
            "up": self.up,
            "outbox_backlog": self.outbox_backlog,
            "published": self.published,
            "processed": self.processed,
            "lag": sum(flow.lag for flow in self.topics.values()),
            "topics": [vars(flow) for flow in sorted(self.topics.values(), key=lambda flow: flow.topic)],
        }


def parse_service_metrics(service: str, exposition: str) -> ServiceHealth:
    """One service's scrape, summed over the labels the dashboard does not show (event type, stage,
    partition)."""
    health = ServiceHealth(service=service, up=True)
    for family in text_string_to_metric_families(exposition):
        for sample in family.samples:
            topic = sample.labels.get("topic")
            if sample.name in _TOPIC_COUNTERS and topic:
                flow = health.topics.setdefault(topic, TopicFlow(topic=topic))
                attribute = _TOPIC_COUNTERS[sample.name]
                setattr(flow, attribute, getattr(flow, attribute) + sample.value)
            elif sample.name == "vip_consumer_lag" and topic:
                health.topics.setdefault(topic, TopicFlow(topic=topic)).lag += sample.value
            elif sample.name == "vip_outbox_backlog":
                health.outbox_backlog = sample.value
            elif sample.name == "vip_events_published_total":
                health.published += sample.value
    return health


class RateHistory:
    """Events applied per second per service, between successive samples (the last `keep`)."""

    def __init__(self, *, keep: int = 120) -> None:
        self._samples: deque[tuple[float, dict[str, float]]] = deque(maxlen=keep + 1)

    def record(self, processed: dict[str, float], *, at: float | None = None) -> None:
        self._samples.append((time.time() if at is None else at, dict(processed)))

    def rates(self) -> list[dict[str, object]]:
        """`[{"at": epoch seconds, "rates": {service: events/s}}]`, oldest first; a counter that went
        down (a restarted service) counts from zero."""
        points: list[dict[str, object]] = []
        for (before_at, before), (at, now) in pairwise(self._samples):
            elapsed = at - before_at
            if elapsed <= 0:
                continue
            rates = {}
            for service, total in now.items():
                previous = before.get(service, 0.0)
                delta = total - previous if total >= previous else total
                rates[service] = round(delta / elapsed, 3)
            points.append({"at": at, "rates": rates})
        return points
