"""Replay: rebuild every service's state from the topics, from the start.

    python bench/replay.py --events 20000

Starts a Tansu broker of its own, runs the platform (`vip up` against that broker) over N realistic
events until every service has drained, stops it, then starts a second platform with empty
databases and new consumer groups (`VIP_CONSUMER_GROUP_PREFIX`) on the same broker: every service
reads its topics from the beginning and rebuilds its state. Prints the replay rate (inbound events
per second until every service has drained again) and checks a sample of customers answers the same
in both platforms. Last line: `replay_events_per_s=<x> events=<n> same_answers=<k>/<m>`.
"""

import argparse
import asyncio
import random
import signal
import tempfile
import time
import uuid
from pathlib import Path

import httpx
import orjson

from bench.instances import Instances
from bench.pipeline import TOKEN, drained, produce, realistic_events, start_platform, wait_ready
from cli.broker import TansuBroker
from cli.launch import free_port


async def _until_drained(http_base: int, published: int) -> None:
    async with httpx.AsyncClient(timeout=10) as client:
        last_report = time.perf_counter()
        while True:
            done, consumed = await drained(client, Instances.of_vip_up(http_base), published=published)
            if done:
                return
            if time.perf_counter() - last_report > 5:
                print(f"  scoring has committed {consumed}/{published}", flush=True)
                last_report = time.perf_counter()
            await asyncio.sleep(0.1)


async def _answers(http_base: int, customers: list[str]) -> dict[str, object]:
    headers = {"Authorization": f"Bearer {TOKEN}"}
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{http_base + 3}", headers=headers) as client:
        return {customer: (await client.get(f"/v1/customers/{customer}")).json() for customer in customers}


async def main(events: int) -> None:
    with tempfile.TemporaryDirectory(prefix="vip-bench-") as scratch:
        root = Path(scratch)
        broker = TansuBroker(log_dir=root)
        broker.start(free_port())
        external = {"VIP_KAFKA_BOOTSTRAP_SERVERS": broker.bootstrap_servers, "VIP_KAFKA_IDEMPOTENCE": "false",
                    "VIP_KAFKA_SESSION_TIMEOUT_MS": "6000", "VIP_KAFKA_HEARTBEAT_INTERVAL_MS": "1500"}
        messages = realistic_events(events, run=uuid.uuid4().hex[:4].upper())
        sample = random.Random(7).sample(
            sorted({orjson.loads(value)["policy"]["holder_id"] for _, value in messages}), 200
        )
        try:
            first_dir = root / "first"
            first_dir.mkdir()
            base = 18_000 + random.randint(0, 200) * 10
            print(f"first platform: applying {len(messages)} events ...", flush=True)
            first = start_platform(first_dir, broker_port=0, http_base=base, extra_env=external)
            try:
                await wait_ready([base + offset for offset in range(4)], first)
                await produce(broker.bootstrap_servers, "pas.policy-events", messages)
                await _until_drained(base, len(messages))
                before = await _answers(base, sample)
            finally:
                first.send_signal(signal.SIGINT)
                first.wait(timeout=60)
            second_dir = root / "second"
            second_dir.mkdir()
            base = base + 2_000
            print("second platform: empty databases, new consumer groups, replaying every topic ...", flush=True)
            second = start_platform(
                second_dir, broker_port=0, http_base=base,
                extra_env={**external, "VIP_CONSUMER_GROUP_PREFIX": f"replay{uuid.uuid4().hex[:6]}"},
            )
            try:
                started = time.perf_counter()
                await wait_ready([base + offset for offset in range(4)], second)
                await _until_drained(base, len(messages))
                rate = len(messages) / (time.perf_counter() - started)
                after = await _answers(base, sample)
            finally:
                second.send_signal(signal.SIGINT)
                second.wait(timeout=60)
        finally:
            broker.stop()
    same = sum(before[customer] == after[customer] for customer in sample)
    for customer in sample:
        if before[customer] != after[customer]:
            print(f"  differs: {customer}: first run {before[customer]}, replay {after[customer]}")
    print(f"  replayed {len(messages)} events at {rate:,.0f}/s (start-up of the second platform included)")
    print(f"replay_events_per_s={rate:.1f} events={len(messages)} same_answers={same}/{len(sample)}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=20_000)
    asyncio.run(main(parser.parse_args().events))
