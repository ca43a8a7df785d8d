"""Latency from publish to visible at the call-center API, at a steady event rate.

    python bench/latency.py --rate 500 --seconds 30

Starts the platform with `vip up` (as bench/pipeline.py does), publishes `new_business` events for
distinct customers (`--mix realistic`: the pipeline bench's realistic mix, customers of 1-4 policies
with later changes) at a steady rate, and for one event in `--sample` among those that make a customer
known for the first time polls `GET /v1/customers/{id}` on the entitlements service every 10 ms from
the moment the broker acknowledged the event until it answers 200. Prints p50/p90/p99/max, then where
the time went hop by hop (`bench.hops`, from the services' own histograms, every event counted); the
last line is `latency_rate=<events/s> p50_ms=<x> p99_ms=<y> samples=<n>`.
"""

import argparse
import asyncio
import random
import signal
import statistics
import tempfile
import time
import uuid
from pathlib import Path

import httpx
import orjson
from aiokafka import AIOKafkaProducer

from bench.hops import hop_waits, print_hops
from bench.pipeline import TOKEN, realistic_events, start_platform, synthetic_events, wait_ready
from cli.launch import free_port


async def _visible_after(client: httpx.AsyncClient, customer_id: str, published_at: float, timeout_s: float) -> float:
    while time.perf_counter() - published_at < timeout_s:
        answer = await client.get(f"/v1/customers/{customer_id}")
        if answer.status_code == 200:
            return time.perf_counter() - published_at
        await asyncio.sleep(0.01)
    raise TimeoutError(f"{customer_id} not visible after {timeout_s} s")


def first_sightings(messages: list[tuple[bytes, bytes]]) -> list[str | None]:
    """For each message, the customer it makes known for the first time (None: one already known)."""
    seen: set[str] = set()
    firsts: list[str | None] = []
    for _, value in messages:
        holder = orjson.loads(value)["policy"]["holder_id"]
        firsts.append(None if holder in seen else holder)
        seen.add(holder)
    return firsts


async def measure(
    bootstrap: str, entitlements_url: str, *, rate: int, seconds: int, sample: int, mix: str
) -> list[float]:
    make = realistic_events if mix == "realistic" else synthetic_events
    messages = make(rate * seconds, run=uuid.uuid4().hex[:4].upper())
    firsts = first_sightings(messages)
    sightings = 0
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", linger_ms=1)
    await producer.start()
    latencies: list[float] = []
    probes: list[asyncio.Task[float]] = []
    headers = {"Authorization": f"Bearer {TOKEN}"}
    async with httpx.AsyncClient(base_url=entitlements_url, headers=headers, timeout=5) as client:
        started = time.perf_counter()
        for index, (key, value) in enumerate(messages):
            due = started + index / rate
            delay = due - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            delivery = await producer.send("pas.policy-events", key=key, value=value)
            customer_id = firsts[index]
            if customer_id is not None:
                sightings += 1
            if customer_id is not None and sightings % sample == 1 % sample:

                async def probe(customer: str = customer_id, sent: "asyncio.Future[object]" = delivery) -> float:
                    await sent
                    return await _visible_after(client, customer, time.perf_counter(), timeout_s=30)

                probes.append(asyncio.create_task(probe()))
        achieved = len(messages) / (time.perf_counter() - started)
        latencies = list(await asyncio.gather(*probes))
    await producer.stop()
    print(f"  published {len(messages)} events at {achieved:.0f}/s", flush=True)
    return latencies


def _percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


async def main(rate: int, seconds: int, sample: int, mix: str) -> None:
    with tempfile.TemporaryDirectory(prefix="vip-bench-") as scratch:
        data_dir = Path(scratch)
        broker_port, http_base = free_port(), 18_000 + random.randint(0, 400) * 10
        print(f"starting the platform (data in {data_dir}) ...", flush=True)
        platform = start_platform(data_dir, broker_port=broker_port, http_base=http_base)
        try:
            await wait_ready([http_base + offset for offset in range(4)], platform)
            print(f"publishing at {rate} events/s for {seconds} s, probing 1 in {sample} ...", flush=True)
            latencies = await measure(
                f"127.0.0.1:{broker_port}", f"http://127.0.0.1:{http_base + 3}",
                rate=rate, seconds=seconds, sample=sample, mix=mix,
            )
            waits = await hop_waits({
                name: f"http://127.0.0.1:{http_base + offset}"
                for offset, name in enumerate(("scoring", "tiering", "assignment", "entitlements"))
            })
        finally:
            platform.send_signal(signal.SIGINT)
            platform.wait(timeout=60)
    in_ms = [latency * 1000 for latency in latencies]
    print(
        f"  p50 {statistics.median(in_ms):.0f} ms, p90 {_percentile(in_ms, 0.9):.0f} ms, "
        f"p99 {_percentile(in_ms, 0.99):.0f} ms, max {max(in_ms):.0f} ms over {len(in_ms)} samples"
    )
    print_hops(waits)
    print(
        f"latency_rate={rate} p50_ms={statistics.median(in_ms):.1f} "
        f"p99_ms={_percentile(in_ms, 0.99):.1f} samples={len(in_ms)}"
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rate", type=int, default=500)
    parser.add_argument("--seconds", type=int, default=30)
    parser.add_argument("--sample", type=int, default=10, help="probe one new customer in this many")
    parser.add_argument("--mix", choices=["new_business", "realistic"], default="new_business")
    arguments = parser.parse_args()
    asyncio.run(main(arguments.rate, arguments.seconds, arguments.sample, arguments.mix))
