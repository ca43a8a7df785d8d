"""The whole platform through its public interfaces: `vip up`, `vip publish`, the call-center API.

Starts `vip up` as a user would (embedded PostgreSQL, Tansu, four service processes), publishes the
shipped example file, reads the answers a call-center agent would see, sends garbage, and stops the
platform with Ctrl-C (SIGINT), checking that no process is left behind.
"""

import asyncio
import signal
import time
import uuid
from collections.abc import Callable, Iterator

import httpx
import psutil
import pytest

from shared.topics import POLICY_EVENTS
from tests.builders.policies import policy_event
from tests.e2e.platform import ROOT, Platform, running_platform, vip
from tests.support import publish, read_topic

TOKEN = f"e2e-{uuid.uuid4().hex[:8]}"

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def platform(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Platform]:
    with running_platform(tmp_path_factory.mktemp("vip-up"), tokens=f"{TOKEN}=call_center+ops+admin") as running:
        yield running


def _alive(process: psutil.Process) -> bool:
    try:
        return process.is_running() and process.status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def _get(url: str) -> httpx.Response:
    return httpx.get(url, headers={"Authorization": f"Bearer {TOKEN}"}, timeout=5)


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
    published = vip("publish", examples, "--bootstrap-servers", platform.bootstrap_servers)
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
        vip, "publish", str(ROOT / "examples" / "garbage.jsonl"), "--topic", POLICY_EVENTS,
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
