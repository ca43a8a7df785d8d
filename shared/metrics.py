"""Prometheus metrics of one service process, on a registry of its own (nothing global)."""

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Mapping

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

from shared.failures import describe, is_transient

log = logging.getLogger(__name__)

_BATCH_SIZES = (1, 5, 10, 25, 50, 100, 200, 500, 1000, 2000)
_LATENCIES = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10)
_WAITS = (0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.25, 0.35, 0.5, 0.75, 1, 1.5, 2.5, 5, 10, 30, 60)
"""Finer than `_LATENCIES` between 50 ms and 1 s, where one hop's share of a 250 ms target lies."""


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
        self.dead_letters_stubbed = Counter(
            "vip_dead_letters_stubbed_total",
            "Dead letters the broker refused for good (too large), sent as a stub; the original is in the database",
            ["topic"], registry=r,
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
        self.record_wait = Histogram(
            "vip_record_wait_seconds",
            "From a message's broker timestamp (the producer's send) to the commit that applied it: one "
            "hop's queueing, fetch and transaction",
            ["topic"], buckets=_WAITS, registry=r,
        )
        self.outbox_wait = Histogram(
            "vip_outbox_wait_seconds",
            "From the start of the transaction that wrote an outbox row to the broker's acknowledgement of it",
            ["topic"], buckets=_WAITS, registry=r,
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

        # Business gauges: set by the service that owns the figure, from its own database, when
        # /metrics is scraped (see `refresh_business_with`). Labelled, so a service that does not
        # own a figure exports no series for it rather than a misleading zero.
        self.vips_by_tier = Gauge(
            "vip_customers_by_tier", "VIP customers per effective tier (tiering)", ["tier"], registry=r
        )
        self.cooling_off_upgrades = Gauge(
            "vip_cooling_off_pending_upgrades",
            "Customers whose pending points lift them to a higher 2015 tier once cooling-off ends (scoring)",
            ["tier"], registry=r,
        )
        self.vips_without_representative = Gauge(
            "vip_vips_without_representative", "VIP customers with no representative (assignment)", ["channel"],
            registry=r,
        )
        self.vips_without_representative_oldest_days = Gauge(
            "vip_vips_without_representative_oldest_days",
            "Days the longest-waiting VIP without a representative has waited (assignment)", ["channel"],
            registry=r,
        )
        self.representatives_serving = Gauge(
            "vip_representatives_serving", "Service persons representing at least one VIP (assignment)", ["channel"],
            registry=r,
        )
        self.representative_load_max = Gauge(
            "vip_representative_load_max", "The heaviest representative's number of VIPs (assignment)", ["channel"],
            registry=r,
        )
        self.vips_represented = Gauge(
            "vip_vips_represented", "VIP customers with a representative (assignment)", ["channel"], registry=r
        )
        self.work_items_open = Gauge(
            "vip_work_items_open", "Representatives' work items still to be done, not overdue (assignment)",
            ["duty"], registry=r,
        )
        self.work_items_overdue = Gauge(
            "vip_work_items_overdue", "Representatives' work items past their due date, not done (assignment)",
            ["duty"], registry=r,
        )
        usage_labels = ["channel", "branch", "vendor"]
        self.redemptions = Gauge(
            "vip_redemptions", "Value-added uses recorded and not reversed (entitlements)", usage_labels, registry=r
        )
        self.redemption_cost = Gauge(
            "vip_redemption_cost", "Cost of the value-added uses not reversed (entitlements)", usage_labels,
            registry=r,
        )
        self.honorary_waiting = Gauge(
            "vip_honorary_applications_waiting", "Honorary applications waiting per step (tiering)", ["step"],
            registry=r,
        )
        self.group_clients_by_level = Gauge(
            "vip_group_clients_by_level", "Group clients per effective level, `regular` when not VIP (entitlements)",
            ["level"], registry=r,
        )
        self.group_overdue_complaints = Gauge(
            "vip_group_overdue_complaints", "Group complaints unresolved past the response time (entitlements)",
            ["branch"], registry=r,
        )
        self.group_clients_without_manager = Gauge(
            "vip_group_clients_without_manager", "VIP group clients with no account manager (assignment)", ["level"],
            registry=r,
        )
        self._business_gauges = [
            self.vips_by_tier, self.cooling_off_upgrades, self.vips_without_representative,
            self.vips_without_representative_oldest_days, self.representatives_serving, self.representative_load_max,
            self.vips_represented, self.redemptions, self.redemption_cost, self.honorary_waiting,
            self.group_clients_by_level, self.group_overdue_complaints, self.group_clients_without_manager,
        ]
        self.too_many_connections = Counter(
            "vip_db_too_many_connections_total",
            "Requests answered 503 because PostgreSQL refused a connection: too many connections (SQLSTATE 53300)",
            registry=r,
        )
        self.business_refresh_failures = Counter(
            "vip_business_metrics_refresh_failures_total",
            "Scrapes whose business gauges could not be refreshed from the database", registry=r,
        )
        self._business_refresh: BusinessRefresh | None = None
        self._business_max_age_s = 0.0
        self._business_refreshed_at: float | None = None
        self._business_lock = asyncio.Lock()

    def refresh_business_with(self, refresh: "BusinessRefresh", *, max_age_s: float = 5.0) -> None:
        """Have `refresh_business` call `refresh(self)` at most once per `max_age_s`: a scrape storm
        then costs the database one query set per interval, not one per scrape."""
        self._business_refresh = refresh
        self._business_max_age_s = max_age_s

    async def refresh_business(self, *, leading: bool = True) -> None:
        """Bring the business gauges up to date before a scrape; a failure (database away) leaves the
        previous values, is counted and logged, and never fails the scrape of the other metrics.

        Only the instance `leading` (the outbox relay's leader: one per service, whatever the number
        of replicas) exports them; the others export no series, so a sum over instances in Grafana
        counts every customer once. A replica that loses the lead drops its series at the next scrape.
        """
        refresh = self._business_refresh
        if refresh is None:
            return
        if not leading:
            for gauge in self._business_gauges:
                gauge.clear()
            self._business_refreshed_at = None
            return
        async with self._business_lock:
            now = time.monotonic()
            if self._business_refreshed_at is not None and now - self._business_refreshed_at < self._business_max_age_s:
                return
            # A failure waits the same interval before the next attempt: during an outage a scrape
            # storm must not queue behind one connect timeout after another.
            self._business_refreshed_at = now
            try:
                async with asyncio.timeout(5):
                    await refresh(self)
            except Exception as error:
                self.business_refresh_failures.inc()
                log.warning("business metrics not refreshed: %s", describe(error), exc_info=not is_transient(error))


BusinessRefresh = Callable[[ServiceMetrics], Awaitable[None]]


def set_labelled(gauge: Gauge, values: Mapping[str, float] | Mapping[tuple[str, ...], float]) -> None:
    """Replace every series of a labelled gauge (keys: the label value, or a tuple of them in the
    gauge's label order): series gone from `values` disappear from the scrape."""
    gauge.clear()
    for labels, value in values.items():
        gauge.labels(*((labels,) if isinstance(labels, str) else labels)).set(value)
