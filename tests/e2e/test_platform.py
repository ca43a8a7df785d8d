"""The whole platform through its public interfaces: `vip up`, `vip publish`, the call-center API.

Starts `vip up` as a user would (embedded PostgreSQL, Tansu, four service processes), publishes the
shipped example file, reads the answers a call-center agent would see, sends garbage, and stops the
platform with Ctrl-C (SIGINT), checking that no process is left behind.
"""

import asyncio
import os
import random
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import psutil
import pytest

from cli.local import free_port, port_is_free
from shared.topics import POLICY_EVENTS
from tests.support import policy_event, publish, read_topic

ROOT = Path(__file__).resolve().parents[2]
VIP = str(Path(sys.executable).parent / "vip")
TOKEN = f"e2e-{uuid.uuid4().hex[:8]}"

pytestmark = pytest.mark.e2e


@dataclass
class Platform:
    process: subprocess.Popen[bytes]
    data_dir: Path
    bootstrap_servers: str
    http_base: int

    def url(self, offset: int) -> str:
        return f"http://127.0.0.1:{self.http_base + offset}"

    @property
    def entitlements(self) -> str:
        return self.url(3)

    def output(self) -> str:
        return (self.data_dir / "vip-up.out").read_text(errors="replace")


def _free_http_base() -> int:
    for _ in range(200):
        base = random.randrange(20_000, 40_000, 10)
        if all(port_is_free(base + offset) for offset in range(4)):
            return base
    raise RuntimeError("no four consecutive free ports")


def _wait_ready(platform: Platform, timeout_s: float = 180) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if platform.process.poll() is not None:
            pytest.fail(f"vip up exited with {platform.process.returncode}:\n{platform.output()[-4000:]}")
        try:
            codes = [httpx.get(f"{platform.url(offset)}/readyz", timeout=2).status_code for offset in range(4)]
        except httpx.HTTPError:
            codes = []
        if codes == [200] * 4:
            return
        time.sleep(0.5)
    pytest.fail(f"the platform was not ready within {timeout_s}s:\n{platform.output()[-4000:]}")


@pytest.fixture(scope="module")
def platform(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Platform]:
    data_dir = tmp_path_factory.mktemp("vip-up")
    broker_port, http_base = free_port(), _free_http_base()
    env = {**os.environ, "VIP_API_TOKENS": f"{TOKEN}=call_center+ops+admin"}
    for name in ("VIP_KAFKA_BOOTSTRAP_SERVERS", "VIP_POSTGRES_URL"):
        env.pop(name, None)
    with (data_dir / "vip-up.out").open("wb") as output:
        process = subprocess.Popen(
            [VIP, "up", "--data-dir", str(data_dir), "--broker-port", str(broker_port),
             "--http-port-base", str(http_base)],
            cwd=ROOT, env=env, stdout=output, stderr=subprocess.STDOUT,
        )
    running = Platform(process, data_dir, f"127.0.0.1:{broker_port}", http_base)
    try:
        _wait_ready(running)
        yield running
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=30)


def _alive(process: psutil.Process) -> bool:
    try:
        return process.is_running() and process.status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def _get(url: str) -> httpx.Response:
    return httpx.get(url, headers={"Authorization": f"Bearer {TOKEN}"}, timeout=5)


def _vip(*arguments: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([VIP, *arguments], cwd=ROOT, capture_output=True, text=True, timeout=60, check=False)


def _eventually(url: str, check: Callable[[httpx.Response], bool], timeout_s: float = 30) -> httpx.Response:
    deadline = time.monotonic() + timeout_s
    response = _get(url)
    while time.monotonic() < deadline:
        response = _get(url)
        if check(response):
            return response
        time.sleep(0.2)
    raise AssertionError(f"{url} never satisfied the check; last answer {response.status_code} {response.text}")


def test_the_example_file_makes_a_gold_customer_with_a_representative_and_16_entitlements(platform: Platform) -> None:
    examples = str(ROOT / "examples" / "events.jsonl")
    published = _vip("publish", examples, "--bootstrap-servers", platform.bootstrap_servers)
    assert published.returncode == 0, published.stdout + published.stderr

    customer = _eventually(
        f"{platform.entitlements}/v1/customers/C000981",
        lambda r: r.status_code == 200 and r.json()["representative"] is not None,
    ).json()
    assert customer["tier"] == "gold"
    assert customer["standard"] == "2015"
    assert customer["points"] == "36000.00"
    assert customer["honorary"] is False
    assert customer["representative"]["agent_id"] == "A00412"

    entitlements = _get(f"{platform.entitlements}/v1/customers/C000981/entitlements").json()
    assert len(entitlements["entitlements"]) == 16
    by_code = {entry["code"]: entry for entry in entitlements["entitlements"]}
    assert by_code["green_channel"]["eligible"] is True
    assert by_code["airport_lounge"]["eligible"] is False  # Diamond and Platinum only
    assert by_code["vip_reading"]["quota"] == 1


async def test_garbage_is_dead_lettered_and_the_next_valid_event_still_goes_through(platform: Platform) -> None:
    published = await asyncio.to_thread(
        _vip, "publish", str(ROOT / "examples" / "garbage.jsonl"), "--topic", POLICY_EVENTS,
        "--bootstrap-servers", platform.bootstrap_servers,
    )
    assert published.returncode == 0, published.stdout + published.stderr
    customer = f"E2E{uuid.uuid4().hex[:8].upper()}"
    valid = policy_event(policy_no=f"P{customer}", holder_id=customer, modal_premium="80000.00")
    await publish(platform.bootstrap_servers, POLICY_EVENTS, [(valid["policy"]["policy_no"], valid)])

    dead = await read_topic(platform.bootstrap_servers, f"{POLICY_EVENTS}.dlq", expect=2)
    assert len(dead) == 2
    assert all(record.headers["dlq.reason"] for record in dead)
    answer = _eventually(f"{platform.entitlements}/v1/customers/{customer}", lambda r: r.status_code == 200).json()
    assert answer["tier"] == "platinum"


def test_ctrl_c_stops_everything_and_leaves_no_process(platform: Platform) -> None:
    parent = psutil.Process(platform.process.pid)
    started = parent.children(recursive=True)
    postgres = [
        process for process in psutil.process_iter(["cmdline"])
        if str(platform.data_dir) in " ".join(process.info["cmdline"] or [])
    ]
    watched = {process.pid: process for process in [*started, *postgres]}
    assert len(watched) >= 5, f"expected four services, the broker and PostgreSQL; saw {list(watched)}"

    platform.process.send_signal(signal.SIGINT)
    assert platform.process.wait(timeout=60) == 0, platform.output()[-3000:]

    deadline = time.monotonic() + 15
    alive = list(watched.values())
    while True:
        alive = [process for process in alive if _alive(process)]
        if not alive or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert not alive, f"left running after Ctrl-C: {[(p.pid, p.name()) for p in alive]}"
