"""Where an event's latency goes, hop by hop, read from the services' own histograms.

Every consumer observes `vip_record_wait_seconds{topic}` (a message's broker timestamp to the commit
that applied it: queueing behind earlier batches, the fetch, the transaction) and every relay
`vip_outbox_wait_seconds{topic}` (the start of the transaction that wrote an outbox row to the
broker's acknowledgement). Read after a run, they say which hop holds the time. The two overlap by
the writing transaction's own duration (it is in both), so their sum is a slight over-estimate of
the end to end. Quantiles are interpolated inside the histogram's buckets (as PromQL's
`histogram_quantile` does): good for attribution, coarser than the end-to-end probes.
"""

from dataclasses import dataclass, field

import httpx
from prometheus_client.parser import text_string_to_metric_families

WAITS = ("vip_record_wait_seconds", "vip_outbox_wait_seconds")


@dataclass(frozen=True, slots=True)
class HopWait:
    service: str
    metric: str
    topic: str
    count: int
    mean_ms: float
    p50_ms: float
    p99_ms: float


def quantile(buckets: list[tuple[float, float]], fraction: float) -> float:
    """`histogram_quantile`: `buckets` are (upper bound, cumulative count), ascending, +Inf last."""
    total = buckets[-1][1]
    if total == 0:
        return 0.0
    rank, lower, below = fraction * total, 0.0, 0.0
    for upper, cumulative in buckets:
        if cumulative >= rank:
            if upper == float("inf"):
                return lower
            return lower + (upper - lower) * (rank - below) / max(cumulative - below, 1e-9)
        lower, below = upper, cumulative
    return lower


@dataclass(slots=True)
class _Series:
    buckets: list[tuple[float, float]] = field(default_factory=list)
    total: float = 0.0
    count: float = 0.0


def waits_in(service: str, exposition: str) -> list[HopWait]:
    """The wait histograms of one service's `/metrics` text, one row per metric and topic."""
    found: list[HopWait] = []
    for family in text_string_to_metric_families(exposition):
        if family.name not in WAITS:
            continue
        by_topic: dict[str, _Series] = {}
        for sample in family.samples:
            series = by_topic.setdefault(sample.labels["topic"], _Series())
            if sample.name.endswith("_bucket"):
                series.buckets.append((float(sample.labels["le"]), sample.value))
            elif sample.name.endswith("_sum"):
                series.total = sample.value
            elif sample.name.endswith("_count"):
                series.count = sample.value
        found += [
            HopWait(
                service=service, metric=family.name, topic=topic, count=int(series.count),
                mean_ms=1000 * series.total / series.count,
                p50_ms=1000 * quantile(sorted(series.buckets), 0.5),
                p99_ms=1000 * quantile(sorted(series.buckets), 0.99),
            )
            for topic, series in by_topic.items()
            if series.count
        ]
    return found


async def hop_waits(services: dict[str, str]) -> list[HopWait]:
    """Every service's waits, in pipeline order (`services`: name → base URL)."""
    found: list[HopWait] = []
    async with httpx.AsyncClient(timeout=10) as client:
        for service, base_url in services.items():
            answer = await client.get(f"{base_url}/metrics")
            answer.raise_for_status()
            found += waits_in(service, answer.text)
    return found


def print_hops(waits: list[HopWait]) -> None:
    print("  where the time went (the services' histograms; consumer: broker timestamp → commit; relay: "
          "transaction start → broker ack):")
    for wait in waits:
        where = "consumer" if wait.metric == "vip_record_wait_seconds" else "relay"
        print(f"    {wait.service:<12} {where:<8} {wait.topic:<24} n={wait.count:<6} mean {wait.mean_ms:6.0f} ms  "
              f"p50 {wait.p50_ms:6.0f} ms  p99 {wait.p99_ms:6.0f} ms")
