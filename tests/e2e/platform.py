"""The whole platform as a user starts it: `vip up` in a process of its own, on free ports."""

import os
import random
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from cli.launch import free_port, port_is_free

ROOT = Path(__file__).resolve().parents[2]
VIP = str(Path(sys.executable).parent / "vip")
PROCESSES = 5  # four services and the dashboard


@dataclass
class Platform:
    process: subprocess.Popen[bytes]
    data_dir: Path
    bootstrap_servers: str
    http_base: int

    def url(self, offset: int) -> str:
        return f"http://127.0.0.1:{self.http_base + offset}"

    @property
    def scoring(self) -> str:
        return self.url(0)

    @property
    def tiering(self) -> str:
        return self.url(1)

    @property
    def assignment(self) -> str:
        return self.url(2)

    @property
    def entitlements(self) -> str:
        return self.url(3)

    @property
    def dashboard(self) -> str:
        return self.url(4)

    def output(self) -> str:
        return (self.data_dir / "vip-up.out").read_text(errors="replace")


def vip(*arguments: str) -> subprocess.CompletedProcess[str]:
    """Run the installed `vip` command as a user would."""
    return subprocess.run([VIP, *arguments], cwd=ROOT, capture_output=True, text=True, timeout=120, check=False)


def eventually(what: str, check: Callable[[], Any], timeout_s: float = 40) -> Any:
    deadline = time.monotonic() + timeout_s
    last: Any = None
    while time.monotonic() < deadline:
        last = check()
        if last:
            return last
        time.sleep(0.2)
    raise AssertionError(f"{what} never happened; last: {last!r}")


def _free_http_base() -> int:
    for _ in range(200):
        base = random.randrange(20_000, 40_000, 10)
        if all(port_is_free(base + offset) for offset in range(PROCESSES)):
            return base
    raise RuntimeError(f"no {PROCESSES} consecutive free ports")


def _wait_ready(platform: Platform, timeout_s: float = 180) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if platform.process.poll() is not None:
            pytest.fail(f"vip up exited with {platform.process.returncode}:\n{platform.output()[-4000:]}")
        try:
            codes = [httpx.get(f"{platform.url(offset)}/readyz", timeout=2).status_code for offset in range(PROCESSES)]
        except httpx.HTTPError:
            codes = []
        if codes == [200] * PROCESSES and "VIP platform is up." in platform.output():
            return  # every process answers, and `vip up` has seen it too (its Ctrl-C drains from then on)
        time.sleep(0.5)
    pytest.fail(f"the platform was not ready within {timeout_s}s:\n{platform.output()[-4000:]}")


@contextmanager
def running_platform(data_dir: Path, *, tokens: str, env: Mapping[str, str] | None = None) -> Iterator[Platform]:
    """`vip up` with embedded PostgreSQL and Tansu; stopped with SIGINT (then killed) at the end.

    `env` adds to `vip up`'s environment, e.g. `VIP_ALLOW_FUTURE_DAILY_RUN=true` for a scenario
    that must run the daily run of a date ahead."""
    broker_port, http_base = free_port(), _free_http_base()
    env = {**os.environ, **(env or {}), "VIP_API_TOKENS": tokens}
    for name in ("VIP_KAFKA_BOOTSTRAP_SERVERS", "VIP_POSTGRES_URL"):
        env.pop(name, None)
    with (data_dir / "vip-up.out").open("wb") as output:
        process = subprocess.Popen(
            [VIP, "up", "--data-dir", str(data_dir), "--broker-port", str(broker_port),
             "--http-port-base", str(http_base)],
            cwd=ROOT, env=env, stdout=output, stderr=subprocess.STDOUT,
        )
    platform = Platform(process, data_dir, f"127.0.0.1:{broker_port}", http_base)
    try:
        _wait_ready(platform)
        yield platform
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGINT)
            try:
                process.wait(timeout=40)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=30)
