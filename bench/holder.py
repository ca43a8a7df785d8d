"""One holder with thousands of policies, side by side with as many single-policy customers, in one run.

    python bench/holder.py --sizes 1000 2000

Starts the whole platform with `vip up` (as bench/pipeline.py does), then for each size N:
1. holder: N `new_business` events of ONE holder (N policies, keyed by policy number, so on every
   partition), published at once;
2. baseline: the same N events for N distinct single-policy customers.
A warm-up of 500 single-policy customers runs first (the first batches of a fresh platform are slow).
For each it prints the time from the first publish until every service has drained and the customer
(the holder, or the last customer) answers at the call center, and the latency of a control stream of
other customers published during the run (one every 200 ms, from publish until the call center
answers them): p50, p99 and max. The holder's points at the call center are checked against N times
one policy's points (scoring's own answer for a one-policy customer of the same policy).
The last line: `holder_<N>_s=... baseline_<N>_s=... holder_<N>_control_p99_ms=... ...` for every N.
"""

import argparse
import asyncio
import random
import signal
import statistics
import tempfile
import time
import uuid
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import orjson

from bench.instances import Instances
from bench.pipeline import TOKEN, drained, produce, start_platform, wait_ready
from cli.launch import free_port

HEADERS = {"Authorization": f"Bearer {TOKEN}"}
CONTROL_EVERY_S = 0.2


def new_business(*, policy_no: str, holder_id: str, event_id: str) -> tuple[bytes, bytes]:
    """A purchase whose cooling-off is over: 36,000 a year, participating, agency."""
    event = {
        "event_id": event_id, "event_type": "new_business", "occurred_at": "2026-09-20T10:00:00+08:00",
        "previous_holder_id": None,
        "policy": {
            "policy_no": policy_no, "version": 1, "holder_id": holder_id, "channel": "agency",
            "branch": "GD-SZ", "agent_id": f"A{int(policy_no[-3:]) % 50:05d}", "status": "in_force",
            "issued_on": "2026-09-01", "cooling_off_ends_on": "2026-09-16", "product_type": "participating",
            "payment_term_years": 10, "payment_mode": "annual", "modal_premium": "36000.00",
            "account_value": "0.00", "annuity_converted_premium": "0.00", "premium_waived": False,
            "paid_up": False, "loan_outstanding": "0.00",
        },
    }
    return policy_no.encode(), orjson.dumps(event)


class Control:
    """A stream of single-policy customers published every `CONTROL_EVERY_S`; each one's latency from
    publish until the call center answers it."""

    def __init__(self, *, bootstrap: str, http_base: int, run: str) -> None:
        self.bootstrap, self.http_base, self.run = bootstrap, http_base, run
        self.sent: dict[str, float] = {}
        self.latencies: list[float] = []
        self.stopping = False
        self.count = 0

    async def publish(self) -> None:
        index = 0
        while not self.stopping:
            customer = f"K{self.run}C{index:05d}"
            message = new_business(policy_no=f"K{self.run}P{index:05d}", holder_id=customer,
                                   event_id=f"control-{self.run}-{index}")
            self.sent[customer] = time.perf_counter()
            await produce(self.bootstrap, "pas.policy-events", [message])
            self.count += 1
            index += 1
            await asyncio.sleep(CONTROL_EVERY_S)

    async def watch(self) -> None:
        async with httpx.AsyncClient(timeout=10) as client:
            while not self.stopping or self.sent:
                for customer, sent_at in list(self.sent.items()):
                    url = f"http://127.0.0.1:{self.http_base + 3}/v1/customers/{customer}"
                    try:
                        answer = await client.get(url, headers=HEADERS)
                    except httpx.HTTPError:
                        continue
                    if answer.status_code == 200:
                        self.latencies.append(time.perf_counter() - sent_at)
                        del self.sent[customer]
                await asyncio.sleep(0.05)


async def applied(*, bootstrap: str, http_base: int, messages: list[tuple[bytes, bytes]], customer: str,
                  published_before: int, run: str) -> tuple[float, list[float]]:
    """Seconds until all `messages` are applied and `customer` answers; the control stream's latencies."""
    control = Control(bootstrap=bootstrap, http_base=http_base, run=run)
    publishing, watching = asyncio.create_task(control.publish()), asyncio.create_task(control.watch())
    await asyncio.sleep(1)  # the control stream runs before, during and after
    async with httpx.AsyncClient(timeout=30) as client:
        started = time.perf_counter()
        await produce(bootstrap, "pas.policy-events", messages)
        last_report = 0.0
        while True:
            expected = published_before + len(messages) + control.count
            try:
                done, committed = await drained(client, Instances.of_vip_up(http_base), published=expected)
            except httpx.HTTPError:  # a service busy with a long batch answers its metrics late
                continue
            now = time.perf_counter() - started
            if done:
                answer = await client.get(f"http://127.0.0.1:{http_base + 3}/v1/customers/{customer}",
                                          headers=HEADERS)
                if answer.status_code == 200:
                    elapsed = time.perf_counter() - started
                    break
            if now - last_report >= 5:
                print(f"    scoring has committed {committed - published_before}/{len(messages)} "
                      f"(+control); {now:.0f} s", flush=True)
                last_report = now
            await asyncio.sleep(0.05)
    await asyncio.sleep(1)
    control.stopping = True
    await publishing
    await asyncio.wait_for(watching, timeout=600)
    return elapsed, control.latencies


def summary(latencies: list[float]) -> tuple[float, float, float]:
    ordered = sorted(latencies)
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
    return statistics.median(ordered) * 1000, p99 * 1000, ordered[-1] * 1000


async def points_of(http_base: int, customer: str) -> Decimal:
    async with httpx.AsyncClient(timeout=10) as client:
        body = (await client.get(f"http://127.0.0.1:{http_base + 3}/v1/customers/{customer}", headers=HEADERS)).json()
    return Decimal(body["points"])


async def main(arguments: Any) -> None:
    results: dict[str, float] = {}
    with tempfile.TemporaryDirectory(prefix="vip-bench-") as scratch:
        data_dir = Path(scratch)
        broker_port, http_base = free_port(), 18_000 + random.randint(0, 400) * 10
        print(f"starting the platform (data in {data_dir}) ...", flush=True)
        platform = start_platform(data_dir, broker_port=broker_port, http_base=http_base)
        try:
            await wait_ready([http_base + offset for offset in range(4)], platform)
            bootstrap = f"127.0.0.1:{broker_port}"
            print("warm-up: 500 single-policy customers (not reported) ...", flush=True)
            warm = [new_business(policy_no=f"WP{index:05d}", holder_id=f"WC{index:05d}", event_id=f"warm-{index}")
                    for index in range(500)]
            _, latencies = await applied(bootstrap=bootstrap, http_base=http_base, messages=warm,
                                         customer="WC00499", published_before=0, run="WARM")
            published = len(warm) + len(latencies)
            for size in arguments.sizes:
                for case in ("holder", "baseline"):
                    run = uuid.uuid4().hex[:4].upper()
                    holder = f"H{run}"
                    messages = [
                        new_business(policy_no=f"H{run}P{index:05d}",
                                     holder_id=holder if case == "holder" else f"H{run}C{index:05d}",
                                     event_id=f"holder-{run}-{index}")
                        for index in range(size)
                    ]
                    customer = holder if case == "holder" else f"H{run}C{size - 1:05d}"
                    print(f"{case} {size}: ...", flush=True)
                    elapsed, latencies = await applied(
                        bootstrap=bootstrap, http_base=http_base, messages=messages, customer=customer,
                        published_before=published, run=run)
                    published += size + len(latencies)  # every control event answered
                    p50, p99, worst = summary(latencies)
                    print(f"  {case} {size}: {elapsed:.1f} s; control ({len(latencies)} customers) "
                          f"p50 {p50:.0f} ms, p99 {p99:.0f} ms, max {worst:.0f} ms", flush=True)
                    if case == "holder":
                        one = await points_of(http_base, f"K{run}C00000")
                        points = await points_of(http_base, holder)
                        print(f"  holder's points {points} (expected {one * size})", flush=True)
                    results[f"{case}_{size}_s"] = elapsed
                    results[f"{case}_{size}_control_p99_ms"] = p99
        finally:
            platform.send_signal(signal.SIGINT)
            platform.wait(timeout=60)
    print(" ".join(f"{name}={value:.1f}" for name, value in results.items()))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 2000])
    asyncio.run(main(parser.parse_args()))
