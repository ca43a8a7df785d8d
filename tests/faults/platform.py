"""The platform under fault: `vip up` as a user starts it, on a PostgreSQL and a broker the test owns.

The test owns both so it can do to them what an incident does: stop PostgreSQL
(`EmbeddedPostgres.stop_server`), freeze the broker (`TansuBroker.pause`), rewind a consumer group.
`vip up` is pointed at them through `VIP_POSTGRES_URL` and `VIP_KAFKA_BOOTSTRAP_SERVERS` and
supervises the four service processes (restarting any that dies, and saying so on its output).
The test reads the platform only through HTTP: `/readyz`, `/metrics`, `/v1/ops/inbox` and the
call-center API.
"""

import asyncio
import os
import random
import re
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator, Iterable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import psutil
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

from cli.broker import TansuBroker
from cli.launch import free_port, port_is_free
from cli.layout import DATABASES, SERVICES
from cli.postgres import EmbeddedPostgres
from shared.auth import ROLES

ROOT = Path(__file__).resolve().parents[2]
VIP = str(Path(sys.executable).parent / "vip")
SERVICE_NAMES = tuple(service.name for service in SERVICES)
ROLE_TOKENS = {role: f"fault-{role}-{uuid.uuid4().hex[:8]}" for role in sorted(ROLES)}
TOKEN = f"fault-ops-{uuid.uuid4().hex[:8]}"  # call_center + ops + admin: reads everything the tests read
ALL_ROLES_TOKEN = f"fault-all-{uuid.uuid4().hex[:8]}"


def _api_tokens() -> str:
    entries = [f"{TOKEN}=call_center+ops+admin", f"{ALL_ROLES_TOKEN}={'+'.join(sorted(ROLES))}"]
    entries += [f"{token}={role}" for role, token in ROLE_TOKENS.items()]
    return ",".join(entries)


def free_http_base() -> int:
    for _ in range(200):
        base = random.randrange(20_000, 40_000, 10)
        if all(port_is_free(base + offset) for offset in range(len(SERVICES) + 2)):
            return base
    raise RuntimeError("no free block of ports")


async def drop_platform_databases(postgres: EmbeddedPostgres) -> None:
    """Each platform starts on empty databases (their names are fixed by `vip up`)."""
    engine = create_async_engine(postgres.database_url("postgres"), isolation_level="AUTOCOMMIT", poolclass=NullPool)
    try:
        async with engine.connect() as connection:
            for name in DATABASES:
                await connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        await engine.dispose()


@dataclass
class Downtime:
    """Windows in which a service's /readyz did not answer 200, seen by polling every 0.25 s."""

    windows: dict[str, list[tuple[float, float]]] = field(default_factory=dict)

    def longest(self, service: str) -> float:
        return max((end - start for start, end in self.windows.get(service, [])), default=0.0)

    def summary(self) -> str:
        return ", ".join(
            f"{name}: {len(spans)} outage(s), longest {self.longest(name):.1f} s"
            for name, spans in sorted(self.windows.items())
        ) or "no outage"


@dataclass
class FaultPlatform:
    process: subprocess.Popen[bytes]
    data_dir: Path
    postgres: EmbeddedPostgres
    broker: TansuBroker
    http_base: int
    env: dict[str, str]
    client: httpx.AsyncClient
    known_ids: dict[str, str] = field(default_factory=dict)  # path parameter -> an id that exists

    @property
    def bootstrap_servers(self) -> str:
        return self.broker.bootstrap_servers

    def port(self, service: str) -> int:
        return self.http_base + SERVICE_NAMES.index(service)

    def url(self, service: str) -> str:
        return f"http://127.0.0.1:{self.port(service)}"

    def output(self) -> str:
        return (self.data_dir / "vip-up.out").read_text(errors="replace")

    def restarts(self, service: str) -> list[str]:
        """The lines in which `vip up` said it restarts `service`."""
        pattern = re.compile(rf"{service} exited with code .*restart #")
        return [line for line in self.output().splitlines() if pattern.match(line)]

    def service_pid(self, service: str) -> int:
        """The pid of the service process `vip up` runs now (it changes with every restart)."""
        module = f"services.{service}.main"
        for child in psutil.Process(self.process.pid).children(recursive=True):
            try:
                if module in child.cmdline() and child.status() != psutil.STATUS_ZOMBIE:
                    return int(child.pid)
            except psutil.NoSuchProcess:
                continue
        raise LookupError(f"{service} is not running")

    async def get(self, service: str, path: str, **kwargs: Any) -> httpx.Response:
        return await self.client.get(f"{self.url(service)}{path}", headers={"Authorization": f"Bearer {TOKEN}"},
                                     **kwargs)

    async def inbox(self, service: str) -> dict[str, tuple[int, str]]:
        """Topic -> (events applied, digest of their ids), through `GET /v1/ops/inbox`."""
        response = await self.get(service, "/v1/ops/inbox")
        response.raise_for_status()
        return {topic: (entry["events"], entry["digest"]) for topic, entry in response.json()["topics"].items()}

    async def inboxes(self) -> dict[str, dict[str, tuple[int, str]]]:
        return {service: await self.inbox(service) for service in SERVICE_NAMES}

    async def metric(self, service: str, name: str, **labels: str) -> float:
        """The sum of a metric's samples whose labels include `labels` (0 if none)."""
        response = await self.client.get(f"{self.url(service)}/metrics")
        response.raise_for_status()
        total = 0.0
        for line in response.text.splitlines():
            match = re.match(rf"^{name}(?:\{{([^}}]*)\}})? ([0-9.e+-]+)$", line)
            if match and all(f'{key}="{value}"' in (match.group(1) or "") for key, value in labels.items()):
                total += float(match.group(2))
        return total

    async def answers(self, customers: Iterable[str]) -> dict[str, tuple[int, Any]]:
        """The call-center answer (status, body) for every customer."""
        semaphore = asyncio.Semaphore(16)

        async def one(customer_id: str) -> tuple[str, tuple[int, Any]]:
            async with semaphore:
                response = await self.get("entitlements", f"/v1/customers/{customer_id}")
            return customer_id, (response.status_code, response.json())

        return dict(await asyncio.gather(*(one(customer) for customer in customers)))

    async def ready(self, service: str) -> bool:
        try:
            response = await self.client.get(f"{self.url(service)}/readyz", timeout=2)
        except httpx.HTTPError:
            return False
        return response.status_code == 200

    async def wait_ready(self, timeout_s: float = 120) -> None:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"vip up exited with {self.process.returncode}:\n{self.output()[-4000:]}")
            if all(await asyncio.gather(*(self.ready(name) for name in SERVICE_NAMES))):
                return
            await asyncio.sleep(0.25)
        raise AssertionError(f"the platform was not ready within {timeout_s} s:\n{self.output()[-4000:]}")

    async def restart_on_a_fresh_broker(self) -> None:
        """Stop `vip up` (SIGINT, as a user does) and the memory-only broker, then start both again on
        the same databases: every topic, dead-letter topics included, is gone; the databases remain."""
        await _stop(self.process)
        self.broker.stop()
        self.broker.start(free_port())
        self.env["VIP_KAFKA_BOOTSTRAP_SERVERS"] = self.broker.bootstrap_servers
        self.process = spawn([VIP, "up", "--data-dir", str(self.data_dir), "--http-port-base", str(self.http_base)],
                             env=self.env, log_path=self.data_dir / "vip-up.out")
        await self.wait_ready()

    @asynccontextmanager
    async def watching_downtime(self) -> AsyncIterator[Downtime]:
        """Poll every service's /readyz in the background; the windows it was not ready."""
        downtime = Downtime()
        since: dict[str, float] = {}

        async def watch() -> None:
            while True:
                states = await asyncio.gather(*(self.ready(name) for name in SERVICE_NAMES))
                now = time.monotonic()
                for name, up in zip(SERVICE_NAMES, states, strict=True):
                    if not up:
                        since.setdefault(name, now)
                    elif name in since:
                        downtime.windows.setdefault(name, []).append((since.pop(name), now))
                await asyncio.sleep(0.25)

        task = asyncio.create_task(watch())
        try:
            yield downtime
        finally:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
            now = time.monotonic()
            for name, start in since.items():
                downtime.windows.setdefault(name, []).append((start, now))


def spawn(argv: list[str], *, env: Mapping[str, str], log_path: Path) -> subprocess.Popen[bytes]:
    """Start a process in a session of its own, its output appended to `log_path`."""
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with log_path.open("ab") as output:
        return subprocess.Popen(argv, cwd=ROOT, env=dict(env), stdout=output, stderr=subprocess.STDOUT,
                                start_new_session=True)


@asynccontextmanager
async def fault_platform(
    *, postgres: EmbeddedPostgres, data_dir: Path, extra_env: Mapping[str, str] | None = None,
) -> AsyncIterator[FaultPlatform]:
    """`vip up` on empty databases of `postgres` and on a fresh broker; stopped with SIGINT at the end."""
    await drop_platform_databases(postgres)
    broker = TansuBroker(log_dir=data_dir / "broker")
    broker.start(free_port())
    http_base = free_http_base()
    env = {
        **os.environ,
        "VIP_POSTGRES_URL": postgres.server_url(),
        "VIP_KAFKA_BOOTSTRAP_SERVERS": broker.bootstrap_servers,
        "VIP_KAFKA_IDEMPOTENCE": "false",
        "VIP_KAFKA_SESSION_TIMEOUT_MS": "6000",
        "VIP_KAFKA_HEARTBEAT_INTERVAL_MS": "1000",
        "VIP_API_TOKENS": _api_tokens(),
        "VIP_FAULT_MARKER_DIR": str(data_dir / "faults"),
        # The oracle reads every customer's answer with one token, 16 at a time: far over a call-center
        # user's rate. The rate limit itself is attacked in test_hostile_input.py (its own extra_env).
        "VIP_HTTP_RATE_PER_S": "0",
        **(extra_env or {}),
    }
    process = spawn([VIP, "up", "--data-dir", str(data_dir), "--http-port-base", str(http_base)],
                    env=env, log_path=data_dir / "vip-up.out")
    platform: FaultPlatform | None = None
    try:
        async with httpx.AsyncClient(timeout=10) as client:
            platform = FaultPlatform(process, data_dir, postgres, broker, http_base, env, client)
            await platform.wait_ready()
            yield platform
    finally:
        await _stop(platform.process if platform is not None else process)
        broker.stop()


async def _stop(process: subprocess.Popen[bytes]) -> None:
    """SIGINT, as Ctrl-C; SIGKILL if `vip up` has not stopped within 40 s."""
    if process.poll() is None:
        process.send_signal(signal.SIGINT)
        try:
            await asyncio.to_thread(process.wait, 40)
        except subprocess.TimeoutExpired:
            process.kill()
            await asyncio.to_thread(process.wait, 10)
