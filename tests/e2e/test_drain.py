"""Ctrl-C on `vip up` with events still in the memory-only broker: nothing is lost silently.

The first SIGINT waits until every consumer group has consumed everything and every outbox is empty,
printing the backlog; a second SIGINT stops at once and says how many events it drops.
"""

import asyncio
import re
import signal
import time
import uuid
from pathlib import Path

import httpx
import psutil
import pytest

from shared.topics import POLICY_EVENTS
from tests.builders.policies import policy_event
from tests.e2e.platform import Platform, eventually, running_platform
from tests.support import publish

TOKEN = f"e2e-{uuid.uuid4().hex[:8]}"
TOKENS = f"{TOKEN}=call_center+ops+admin"
UNLIMITED = {"VIP_HTTP_RATE_PER_S": "0"}  # 1,500 look-ups in a row: past the per-token rate limit, 429s
PROGRESS = re.compile(
    r"^draining: scoring \d+ behind, tiering \d+ behind, assignment \d+ behind, entitlements \d+ behind, "
    r"outboxes \d+ rows$", re.MULTILINE,
)

pytestmark = pytest.mark.e2e


def _publish_vip_customers(platform: Platform, count: int) -> list[str]:
    """`count` new platinum customers (one large policy each), published at once to the PAS topic."""
    customers = [f"DRN{uuid.uuid4().hex[:6].upper()}{n:03d}" for n in range(count)]
    events = [policy_event(policy_no=f"P{c}", holder_id=c, modal_premium="80000.00") for c in customers]
    asyncio.run(publish(platform.bootstrap_servers, POLICY_EVENTS, [(e["policy"]["policy_no"], e) for e in events]))
    return customers


def _service_process(platform: Platform, service: str) -> psutil.Process:
    for child in psutil.Process(platform.process.pid).children(recursive=True):
        if f"services.{service}.main" in " ".join(child.cmdline()):
            return child
    raise AssertionError(f"no {service} process under vip up")


def test_ctrl_c_waits_until_every_published_event_reached_the_call_center(tmp_path: Path) -> None:
    with running_platform(tmp_path, tokens=TOKENS, env=UNLIMITED) as platform:
        customers = _publish_vip_customers(platform, 1500)
        platform.process.send_signal(signal.SIGINT)  # at once: most events are still in the broker
        assert platform.process.wait(timeout=120) == 0, platform.output()[-3000:]
        output = platform.output()
    lines = PROGRESS.findall(output)
    assert any(re.search(r"[1-9]\d* (behind|rows)", line) for line in lines), output[-3000:]  # it did wait
    assert "drained: every event consumed and every outbox empty" in output, output[-3000:]

    # The broker kept nothing (memory only); PostgreSQL kept everything the services did before exit.
    with running_platform(tmp_path, tokens=TOKENS, env=UNLIMITED) as again, httpx.Client(
        base_url=again.entitlements, headers={"Authorization": f"Bearer {TOKEN}"}
    ) as client:
        answers = {customer: client.get(f"/v1/customers/{customer}") for customer in customers}
    missing = [customer for customer, answer in answers.items() if answer.status_code != 200]
    assert {answer.status_code for answer in answers.values()} <= {200, 404}, "only found or lost, never refused"
    assert not missing, f"{len(missing)} of {len(customers)} customers lost at the stop, e.g. {missing[:3]}"
    assert {answer.json()["tier"] for answer in answers.values()} == {"platinum"}


def test_a_second_ctrl_c_stops_at_once_and_says_how_many_events_it_drops(tmp_path: Path) -> None:
    with running_platform(tmp_path, tokens=TOKENS) as platform:
        entitlements = _service_process(platform, "entitlements")
        entitlements.suspend()  # a service that cannot keep up: its lag stays
        try:
            _publish_vip_customers(platform, 20)
            platform.process.send_signal(signal.SIGINT)
            eventually(
                "a progress line with entitlements behind",
                lambda: re.search(r"entitlements ([1-9]\d*) behind", platform.output()),
                timeout_s=60,
            )
            assert platform.process.poll() is None, "the first Ctrl-C must wait for the backlog"
            second_at = time.monotonic()
            platform.process.send_signal(signal.SIGINT)
            assert platform.process.wait(timeout=30) == 0, platform.output()[-3000:]
            stopped_in = time.monotonic() - second_at
        finally:
            if entitlements.is_running():
                entitlements.resume()
        output = platform.output()
    dropped = re.search(r"stopping now: (\d+) events not yet consumed are lost with the memory-only broker", output)
    assert dropped, output[-3000:]
    assert int(dropped.group(1)) >= 20  # at least the tier decisions entitlements never consumed
    assert stopped_in < 20, f"the second Ctrl-C took {stopped_in:.1f} s"
    assert not entitlements.is_running() or entitlements.status() == psutil.STATUS_ZOMBIE
