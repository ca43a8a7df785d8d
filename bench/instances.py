"""More instances of each service beside those `vip up` started: `bench/pipeline.py --instances 2`.

Each extra process is the same service with the same environment (database, broker, consumer group,
tokens) as the one `vip up` started, on its own HTTP port: the consumer group splits the partitions
between the instances, the outbox relays share the outbox (each takes rows the others have not
locked), and the results must be the same as with one. The split is read back from each instance's
`/metrics` (what each one committed of its topics).
"""

import asyncio
import re
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import psutil

from cli.launch import free_port

SERVICES = ("scoring", "tiering", "assignment", "entitlements")


@dataclass
class Instances:
    """Every instance's HTTP port per service, in `SERVICES` order; the first is `vip up`'s."""

    ports: dict[str, list[int]]
    extra: list[subprocess.Popen[bytes]] = field(default_factory=list)
    logs: list[Path] = field(default_factory=list)

    @classmethod
    def of_vip_up(cls, http_base: int) -> "Instances":
        """The one process per service `vip up` starts, on `http_base` + 0..3."""
        return cls(ports={name: [http_base + offset] for offset, name in enumerate(SERVICES)})

    def stop(self) -> None:
        for process in self.extra:
            process.terminate()
        for process in self.extra:
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()


def start_extra_instances(
    platform: subprocess.Popen[bytes], *, http_base: int, count: int, log_dir: Path
) -> Instances:
    """`count` more processes of each service, started with the environment of `vip up`'s own."""
    instances = Instances.of_vip_up(http_base)
    started = {name: _service_process(platform, name) for name in SERVICES}
    for name, process in started.items():
        for number in range(2, count + 2):
            port = free_port()
            environment = {**process.environ(), "VIP_HTTP_PORT": str(port)}
            instances.logs.append(log_dir / f"{name}-{number}.log")
            log = instances.logs[-1].open("wb")
            instances.extra.append(subprocess.Popen(
                [sys.executable, "-m", f"services.{name}.main"], env=environment, cwd=process.cwd(),
                stdout=log, stderr=subprocess.STDOUT,
            ))
            instances.ports[name].append(port)
    return instances


async def wait_until_sharing(instances: Instances, *, log_dir: Path, timeout_s: float = 120) -> None:
    """Every extra instance answers ready and has been assigned partitions by its group's rebalance."""
    deadline = time.monotonic() + timeout_s
    async with httpx.AsyncClient(timeout=2) as client:
        while time.monotonic() < deadline:
            if any(process.poll() is not None for process in instances.extra):
                raise SystemExit(f"an extra instance exited; see {log_dir}")
            ready = True
            for ports in instances.ports.values():
                for port in ports[1:]:
                    try:
                        ready &= (await client.get(f"http://127.0.0.1:{port}/readyz")).status_code == 200
                    except httpx.HTTPError:
                        ready = False
            assigned = _all_assigned(instances.logs)
            if ready and assigned:
                return
            await asyncio.sleep(0.5)
    raise SystemExit(f"the extra instances did not join their groups within {timeout_s:g} s; see {log_dir}")


def metric(metrics_text: str, name: str, **labels: str) -> float:
    """The sum of a metric's samples whose labels include `labels`."""
    pattern = re.compile(rf"^{name}(?:\{{([^}}]*)\}})? ([0-9.e+-]+)$", re.M)
    wanted = [f'{key}="{value}"' for key, value in labels.items()]
    return sum(
        float(value) for found, value in pattern.findall(metrics_text) if all(part in found for part in wanted)
    )


def handled(metrics_text: str, topic: str | None = None) -> float:
    """Messages (of `topic`, or of every topic) whose batch has been committed: applied, duplicate,
    ignored, stale or parked."""
    labels = {"topic": topic} if topic is not None else {}
    outcomes = ("processed", "duplicate", "ignored", "stale", "dead_lettered")
    return sum(metric(metrics_text, f"vip_events_{outcome}_total", **labels) for outcome in outcomes)


async def metrics_of(client: httpx.AsyncClient, ports: list[int]) -> str:
    """The `/metrics` of every instance of a service, one after the other: `metric` sums across them."""
    return "\n".join([(await client.get(f"http://127.0.0.1:{port}/metrics")).text for port in ports])


async def print_split(instances: Instances) -> None:
    """What each instance committed of its service's inbound topics: the work the group split."""
    async with httpx.AsyncClient(timeout=10) as client:
        for name, ports in instances.ports.items():
            shares = [handled(await metrics_of(client, [port])) for port in ports]
            print(f"  {name}: {' + '.join(f'{share:,.0f}' for share in shares)} events by {len(ports)} instances")


def _all_assigned(logs: list[Path]) -> bool:
    """Each log shows a non-empty assignment (`shared.consumer` logs every rebalance's)."""
    return all('"partitions assigned: [\'' in path.read_text(errors="replace") for path in logs)


def _service_process(platform: subprocess.Popen[bytes], name: str) -> psutil.Process:
    for child in psutil.Process(platform.pid).children(recursive=True):
        if f"services.{name}.main" in " ".join(child.cmdline()):
            return child
    raise SystemExit(f"no {name} process under vip up")
