"""Pipeline throughput against the broker's raw rate, measured side by side in one run.

    python bench/pipeline.py --events 20000

Starts the whole platform with `vip up` (embedded PostgreSQL, Tansu, four services) in a temporary
directory on free ports, then:
1. baseline: produces the N messages to a scratch topic and consumes them with a consumer group
   (`getmany` + one commit per batch): the broker's raw produce-then-consume rate;
2. pipeline: publishes the same N `new_business` events (N distinct customers) to
   `pas.policy-events` and waits until the entitlements service has applied N tier decisions and
   the last customer answers at the call-center API.
The last line is `pipeline_events_per_s=<x> baseline_events_per_s=<y> ratio=<x/y>`.

`--instances 2` starts one more process of each service beside `vip up`'s, with the same environment
(`bench/instances.py`): each consumer group splits its partitions between the two, the run must
drain all the same, and what each instance committed is printed (the split).
"""

import argparse
import asyncio
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
import orjson
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic

from bench.instances import (
    Instances,
    handled,
    metric,
    metrics_of,
    print_split,
    start_extra_instances,
    wait_until_sharing,
)
from cli.launch import free_port

TOKEN = f"bench-{uuid.uuid4().hex[:8]}"


def synthetic_events(count: int, *, run: str) -> list[tuple[bytes, bytes]]:
    """`new_business` for `count` distinct customers, cooling-off over, premiums across all tiers."""
    rng = random.Random(20_000)
    modes = [("annual", 1), ("semiannual", 2), ("quarterly", 4), ("monthly", 12)]
    events = []
    for index in range(count):
        mode, per_year = rng.choice(modes)
        annual = rng.choice([12_000, 36_000, 90_000, 300_000]) + rng.randint(0, 5_000)
        policy_no = f"B{run}P{index:07d}"
        event = {
            "event_id": f"bench-{run}-{index}",
            "event_type": "new_business",
            "occurred_at": "2026-09-20T10:00:00+08:00",
            "previous_holder_id": None,
            "policy": {
                "policy_no": policy_no, "version": 1, "holder_id": f"B{run}C{index:07d}",
                "channel": rng.choice(["agency", "bancassurance", "brokerage", "ecommerce"]),
                "branch": rng.choice(["GD-SZ", "BJ-HD", "SH-PD"]), "agent_id": f"A{rng.randint(1, 500):05d}",
                "status": "in_force", "issued_on": "2026-09-01", "cooling_off_ends_on": "2026-09-16",
                "product_type": rng.choice(["participating", "traditional"]), "payment_term_years": 10,
                "payment_mode": mode, "modal_premium": f"{annual / per_year:.2f}", "account_value": "0.00",
                "annuity_converted_premium": "0.00", "premium_waived": False, "paid_up": False,
                "loan_outstanding": "0.00",
            },
        }
        events.append((policy_no.encode(), orjson.dumps(event)))
    return events


def realistic_events(count: int, *, run: str) -> list[tuple[bytes, bytes]]:
    """About `count` events over customers holding 1-4 policies: purchases (some still in cooling-off),
    additional premium, account-value updates, payouts, beneficiary changes, surrenders and lapses."""
    rng = random.Random(100_000)
    events: list[tuple[bytes, bytes]] = []
    customer = 0
    while len(events) < count:
        customer += 1
        holder = f"R{run}C{customer:07d}"
        for number in range(rng.choice([1, 1, 2, 2, 3, 4])):
            policy_no = f"R{run}P{customer:07d}{number}"
            universal = rng.random() < 0.15
            state: dict[str, Any] = {
                "policy_no": policy_no, "version": 1, "holder_id": holder,
                "channel": rng.choice(["agency", "agency", "bancassurance", "brokerage", "ecommerce", "group"]),
                "branch": rng.choice(["GD-SZ", "BJ-HD", "SH-PD"]), "agent_id": f"A{rng.randint(1, 500):05d}",
                "status": "in_force", "issued_on": "2026-08-01",
                "cooling_off_ends_on": rng.choice(["2026-08-16", "2026-08-16", "2026-12-20"]),
                "product_type": "universal" if universal else rng.choice(["participating", "traditional"]),
                "payment_term_years": rng.choice([1, 5, 10, 20]),
                "payment_mode": "single" if universal else rng.choice(["annual", "monthly", "quarterly"]),
                "modal_premium": f"{rng.randint(1_000, 60_000)}.00",
                "account_value": f"{rng.randint(100_000, 900_000)}.00" if universal else "0.00",
                "annuity_converted_premium": "0.00", "premium_waived": False, "paid_up": False,
                "loan_outstanding": "0.00",
            }
            later = ["additional_premium", "account_value_update", "dividend_paid", "beneficiary_change",
                     "surrender", "lapse", "policy_loan"]
            history = ["new_business", *rng.sample(later, k=rng.randint(0, 2))]
            for version, event_type in enumerate(history, start=1):
                state = {**state, "version": version}
                if event_type == "additional_premium":
                    state["modal_premium"] = f"{int(float(state['modal_premium'])) + 5_000}.00"
                elif event_type == "surrender":
                    state["status"] = "surrendered"
                elif event_type == "lapse":
                    state["status"] = "lapsed"
                elif event_type == "policy_loan":
                    state["loan_outstanding"] = "10000.00"
                event = {
                    "event_id": f"real-{run}-{policy_no}-{version}", "event_type": event_type,
                    "occurred_at": f"2026-09-{version:02d}T10:00:00+08:00", "previous_holder_id": None,
                    "policy": state,
                }
                events.append((policy_no.encode(), orjson.dumps(event)))
    return events[:count]


async def produce(bootstrap: str, topic: str, messages: list[tuple[bytes, bytes]]) -> None:
    producer = AIOKafkaProducer(
        bootstrap_servers=bootstrap, acks="all", linger_ms=5, max_batch_size=262_144
    )
    await producer.start()
    try:
        futures = [await producer.send(topic, key=key, value=value) for key, value in messages]
        for future in futures:
            await future
    finally:
        await producer.stop()


async def baseline_rate(bootstrap: str, messages: list[tuple[bytes, bytes]]) -> float:
    topic = f"bench.baseline.{uuid.uuid4().hex[:6]}"
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    await admin.create_topics([NewTopic(topic, 8, 1)])
    await admin.close()
    consumer = AIOKafkaConsumer(
        topic, bootstrap_servers=bootstrap, group_id=f"bench-{topic}", enable_auto_commit=False,
        auto_offset_reset="earliest", fetch_max_wait_ms=20, max_poll_records=2000,
        session_timeout_ms=2000, heartbeat_interval_ms=500,
    )
    await consumer.start()
    await consumer.getmany(timeout_ms=1500)  # join the group before the clock starts
    started = time.perf_counter()
    producing = asyncio.create_task(produce(bootstrap, topic, messages))
    seen = 0
    while seen < len(messages):
        batch = await consumer.getmany(timeout_ms=200, max_records=2000)
        for records in batch.values():
            seen += len(records)
        if batch:
            await consumer.commit({tp: records[-1].offset + 1 for tp, records in batch.items()})
    elapsed = time.perf_counter() - started
    await producing
    await consumer.stop()
    return len(messages) / elapsed


async def drained(client: httpx.AsyncClient, instances: Instances, *, published: int) -> tuple[bool, int]:
    """Whether every service has committed all its upstream produced and emptied its outbox.

    Counted from what was committed (not merely read), so a batch still in flight keeps it false.
    Returns (drained, inbound events scoring has committed so far)."""
    texts = [await metrics_of(client, ports) for ports in instances.ports.values()]
    scoring, tiering, assignment, entitlements = texts
    scores = metric(scoring, "vip_events_published_total", topic="vip.customer-scores.v1")
    decisions = metric(tiering, "vip_events_published_total", topic="vip.tier-decisions.v1")
    representatives = metric(assignment, "vip_events_published_total", topic="vip.representatives.v1")
    committed = int(handled(scoring, "pas.policy-events"))
    done = (
        committed >= published
        and handled(tiering, "vip.customer-scores.v1") >= scores
        and handled(assignment, "vip.tier-decisions.v1") >= decisions
        and handled(entitlements, "vip.tier-decisions.v1") >= decisions
        and handled(entitlements, "vip.representatives.v1") >= representatives
        and all(metric(text, "vip_outbox_backlog") == 0 for text in texts[:3])
    )
    return done, committed


async def pipeline_rate(bootstrap: str, instances: Instances, messages: list[tuple[bytes, bytes]]) -> float:
    """Events/s from the first publish until every service has drained and the last customer answers."""
    last_customer = orjson.loads(messages[-1][1])["policy"]["holder_id"]
    async with httpx.AsyncClient(timeout=10) as client:
        started = time.perf_counter()
        await produce(bootstrap, "pas.policy-events", messages)
        print(f"  published {len(messages)} events in {time.perf_counter() - started:.1f} s", flush=True)
        last_report = 0.0
        while True:
            done, consumed = await drained(client, instances, published=len(messages))
            now = time.perf_counter() - started
            if done:
                answer = await client.get(
                    f"http://127.0.0.1:{instances.ports['entitlements'][0]}/v1/customers/{last_customer}",
                    headers={"Authorization": f"Bearer {TOKEN}"},
                )
                if answer.status_code == 200:
                    return len(messages) / (time.perf_counter() - started)
            if now - last_report >= 2:
                print(f"  scoring has committed {consumed}/{len(messages)}; {now:.1f} s", flush=True)
                last_report = now
            await asyncio.sleep(0.05)


def start_platform(
    data_dir: Path, *, broker_port: int, http_base: int, extra_env: dict[str, str] | None = None
) -> subprocess.Popen[bytes]:
    """`vip up` in `data_dir`; `extra_env` may point it at an already running broker."""
    env = {**os.environ, "VIP_API_TOKENS": f"{TOKEN}=call_center+ops+admin", "VIP_HTTP_RATE_PER_S": "0"}
    env.pop("VIP_KAFKA_BOOTSTRAP_SERVERS", None)
    env.update(extra_env or {})
    return subprocess.Popen(
        [str(Path(sys.executable).parent / "vip"), "up", "--data-dir", str(data_dir), "--broker-port", str(broker_port),
         "--http-port-base", str(http_base)],
        env=env, stdout=(data_dir / "vip-up.out").open("wb"), stderr=subprocess.STDOUT,
    )


async def wait_ready(ports: list[int], process: subprocess.Popen[bytes], timeout_s: float = 180) -> None:
    deadline = time.monotonic() + timeout_s
    async with httpx.AsyncClient(timeout=2) as client:
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise SystemExit(f"vip up exited with code {process.returncode}")
            try:
                codes = [(await client.get(f"http://127.0.0.1:{port}/readyz")).status_code for port in ports]
            except httpx.HTTPError:
                codes = []
            if codes and all(code == 200 for code in codes):
                return
            await asyncio.sleep(0.5)
    raise SystemExit("the platform was not ready in time")


async def main(arguments: Any) -> None:
    with tempfile.TemporaryDirectory(prefix="vip-bench-") as scratch:
        data_dir = Path(scratch)
        broker_port, http_base = free_port(), 18_000 + random.randint(0, 400) * 10
        print(f"starting the platform (data in {data_dir}) ...", flush=True)
        platform = start_platform(data_dir, broker_port=broker_port, http_base=http_base)
        instances = Instances.of_vip_up(http_base)
        try:
            await wait_ready([http_base + offset for offset in range(4)], platform)
            if arguments.instances > 1:
                (data_dir / "extra").mkdir()
                instances = start_extra_instances(
                    platform, http_base=http_base, count=arguments.instances - 1, log_dir=data_dir / "extra"
                )
                await wait_until_sharing(instances, log_dir=data_dir / "extra")
            bootstrap = f"127.0.0.1:{broker_port}"
            run = uuid.uuid4().hex[:4].upper()
            generate = realistic_events if arguments.mix == "realistic" else synthetic_events
            messages = generate(arguments.events, run=run)
            print(f"baseline: raw produce-then-consume of {len(messages)} messages ...", flush=True)
            baseline = await baseline_rate(bootstrap, messages)
            print(f"  {baseline:,.0f} messages/s", flush=True)
            print(f"pipeline: {len(messages)} {arguments.mix} events through four services ...", flush=True)
            pipeline = await pipeline_rate(bootstrap, instances, messages)
            print(f"  {pipeline:,.0f} events/s", flush=True)
            if arguments.instances > 1:
                await print_split(instances)
        finally:
            instances.stop()
            platform.send_signal(signal.SIGINT)
            platform.wait(timeout=60)
    print(f"pipeline_events_per_s={pipeline:.1f} baseline_events_per_s={baseline:.1f} ratio={pipeline / baseline:.4f}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=20_000)
    parser.add_argument(
        "--mix", choices=["new_business", "realistic"], default="new_business",
        help="new_business: one purchase for each of N customers; realistic: 1-4 policies a customer, "
        "updates, payouts, surrenders, lapses, group-channel policies",
    )
    parser.add_argument(
        "--instances", type=int, default=1,
        help="processes per service, one consumer group each (2: vip up's and one more beside it)",
    )
    asyncio.run(main(parser.parse_args()))
