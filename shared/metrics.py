"""Prometheus metrics of one service process, on a registry of its own (nothing global)."""

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

_BATCH_SIZES = (1, 5, 10, 25, 50, 100, 200, 500, 1000, 2000)
_LATENCIES = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10)


class ServiceMetrics:
    def __init__(self, *, service: str) -> None:
        self.service = service
        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
        self.events_consumed = Counter(
            "vip_events_consumed_total", "Messages read from a topic", ["topic"], registry=r
        )
        self.events_processed = Counter(
            "vip_events_processed_total", "Events applied for the first time", ["topic", "event_type"],
            registry=r,
        )
        self.events_duplicate = Counter(
            "vip_events_duplicate_total", "Redelivered events the inbox absorbed", ["topic"], registry=r
        )
        self.events_ignored = Counter(
            "vip_events_ignored_total", "Valid events this service has no handler for", ["topic"], registry=r
        )
        self.events_dead_lettered = Counter(
            "vip_events_dead_lettered_total", "Messages parked on the topic's .dlq", ["topic", "stage"],
            registry=r,
        )
        self.events_stale = Counter(
            "vip_events_stale_total", "Events older than state already applied", ["topic"], registry=r
        )
        self.events_published = Counter(
            "vip_events_published_total", "Events the relay handed to the broker", ["topic"], registry=r
        )
        self.batch_size = Histogram(
            "vip_batch_size", "Messages per consumed batch", buckets=_BATCH_SIZES, registry=r
        )
        self.batch_seconds = Histogram(
            "vip_batch_processing_seconds", "Time to apply and commit one batch", buckets=_LATENCIES,
            registry=r,
        )
        self.transient_failures = Counter(
            "vip_transient_failures_total", "Retried failures (database or broker away)", ["where"],
            registry=r,
        )
        self.consumer_lag = Gauge(
            "vip_consumer_lag", "Messages behind the partition's end", ["topic", "partition"], registry=r
        )
        self.outbox_backlog = Gauge(
            "vip_outbox_backlog", "Committed events not yet acknowledged by the broker", registry=r
        )
        self.http_requests = Counter(
            "vip_http_requests_total", "HTTP requests", ["method", "route", "status"], registry=r
        )
        self.http_seconds = Histogram(
            "vip_http_request_seconds", "HTTP request latency", ["method", "route"], buckets=_LATENCIES,
            registry=r,
        )
