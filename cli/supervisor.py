"""Child processes kept running: restarted with exponential back-off, stopped without leftovers.

Each child leads its own process group (a new session), for two reasons: a Ctrl-C in the terminal
reaches only `vip up`, which then stops the children in order; and a signal sent to the group also
reaches anything the child spawned (uvicorn workers), so nothing outlives its service.
"""

import asyncio
import json
import os
import signal
import time
from collections.abc import Callable, Coroutine, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psutil

from cli.orphans import terminate_with_parent


@dataclass(frozen=True)
class ChildSpec:
    name: str
    argv: tuple[str, ...]
    env: Mapping[str, str]
    log_path: Path


@dataclass
class Backoff:
    """Delay before a restart: 0.5 s doubling to 30 s; a child that stayed up 60 s starts over at 0.5 s."""

    initial_s: float = 0.5
    max_s: float = 30.0
    reset_after_s: float = 60.0
    _next_s: float = field(init=False, default=0.0)

    def __post_init__(self) -> None:
        self._next_s = self.initial_s

    def delay_after_exit(self, *, uptime_s: float) -> float:
        if uptime_s >= self.reset_after_s:
            self._next_s = self.initial_s
        delay = self._next_s
        self._next_s = min(self._next_s * 2, self.max_s)
        return delay


class SupervisedChild:
    """One child process and the task that restarts it until `stop` is called."""

    def __init__(
        self,
        spec: ChildSpec,
        *,
        report: Callable[[str], None],
        backoff: Backoff | None = None,
        on_spawn: Callable[[str, int], None] | None = None,
    ) -> None:
        self.spec = spec
        self.restarts = 0
        self._report = report
        self._on_spawn = on_spawn
        self._backoff = backoff or Backoff()
        self._process: asyncio.subprocess.Process | None = None
        self._started_at = 0.0
        self._stopping = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    @property
    def pid(self) -> int | None:
        process = self._process
        return process.pid if process is not None and process.returncode is None else None

    async def start(self) -> None:
        """Spawn the first time; a failure to spawn here is the caller's (bad argv, missing module)."""
        await self._spawn()
        self._task = asyncio.create_task(self._watch(), name=f"supervise-{self.spec.name}")

    async def _spawn(self) -> None:
        self.spec.log_path.parent.mkdir(parents=True, exist_ok=True)
        with self.spec.log_path.open("ab") as log:
            stamp = time.strftime("%Y-%m-%d %H:%M:%S")
            log.write(f"\n===== vip up: starting {self.spec.name} at {stamp} =====\n".encode())
            log.flush()
            self._process = await asyncio.create_subprocess_exec(
                *self.spec.argv,
                env=dict(self.spec.env),
                stdin=asyncio.subprocess.DEVNULL,
                stdout=log,
                stderr=asyncio.subprocess.STDOUT,
                start_new_session=True,
                preexec_fn=terminate_with_parent(),
            )
        self._started_at = time.monotonic()
        if self._on_spawn is not None:
            self._on_spawn(self.spec.name, self._process.pid)

    async def _watch(self) -> None:
        """Never blocks past `stop`: every wait here also ends when stopping is requested."""
        while True:
            process = self._process
            if process is not None:
                await _first(process.wait(), self._stopping.wait())
                if self._stopping.is_set():
                    return
                _kill_group(process.pid, signal.SIGKILL)  # helpers the dead child left behind
                uptime = time.monotonic() - self._started_at
                what = f"exited with code {process.returncode} after {uptime:.1f} s"
            else:
                uptime = 0.0
                what = "could not be started"
            delay = self._backoff.delay_after_exit(uptime_s=uptime)
            self.restarts += 1
            log = self.spec.log_path
            self._report(f"{self.spec.name} {what}; restart #{self.restarts} in {delay:g} s (log: {log})")
            await _first(asyncio.sleep(delay), self._stopping.wait())
            if self._stopping.is_set():
                return
            try:
                await self._spawn()
            except OSError as exc:
                self._process = None
                self._report(f"{self.spec.name}: cannot start {self.spec.argv[0]}: {exc}")

    async def stop(self, *, grace_s: float, force: asyncio.Event | None = None) -> None:
        """SIGTERM to the process group, SIGKILL after `grace_s` or as soon as `force` is set."""
        self._stopping.set()
        if self._task is not None:
            await self._task
        process = self._process
        if process is None:
            return
        if process.returncode is None:
            _kill_group(process.pid, signal.SIGTERM)
            waits = [process.wait()] if force is None else [process.wait(), force.wait()]
            try:
                await asyncio.wait_for(_first(*waits), timeout=grace_s)
            except TimeoutError:
                self._report(f"{self.spec.name} did not stop within {grace_s:g} s; killing it")
        _kill_group(process.pid, signal.SIGKILL)  # the child if still there, and whatever it spawned
        await process.wait()


async def _first(*awaitables: Coroutine[Any, Any, object]) -> None:
    """Wait until the first of `awaitables` finishes; the others are cancelled."""
    tasks = [asyncio.ensure_future(awaitable) for awaitable in awaitables]
    try:
        await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


def _kill_group(pgid: int, signum: signal.Signals) -> None:
    try:
        os.killpg(pgid, signum)
    except ProcessLookupError:
        return  # the group is already empty: nothing left to signal


class Supervisor:
    def __init__(
        self,
        specs: list[ChildSpec],
        *,
        report: Callable[[str], None],
        on_spawn: Callable[[str, int], None] | None = None,
    ) -> None:
        self.children = [SupervisedChild(spec, report=report, on_spawn=on_spawn) for spec in specs]

    async def start(self) -> None:
        for child in self.children:
            await child.start()

    async def stop(self, *, grace_s: float, force: asyncio.Event | None = None) -> None:
        """All children at once, so the grace periods overlap instead of adding up."""
        await asyncio.gather(*(child.stop(grace_s=grace_s, force=force) for child in self.children))


class PidRegistry:
    """The processes a `vip up` started, on disk, so the next one can stop those a SIGKILL orphaned.

    A pid is recorded with its start time: a pid the system has since reused for something else
    does not match and is left alone.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self._entries: dict[str, tuple[int, float]] = {}

    def record(self, name: str, pid: int) -> None:
        try:
            created = psutil.Process(pid).create_time()
        except psutil.NoSuchProcess:
            return  # already gone: nothing that could be orphaned
        self._entries[name] = (pid, created)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text(json.dumps({k: {"pid": p, "created": c} for k, (p, c) in self._entries.items()}))
        os.replace(tmp, self.path)

    def stop_orphans(self, *, report: Callable[[str], None], grace_s: float = 10.0) -> None:
        """Terminate (then kill) what a previous run recorded and is still the same process."""
        if not self.path.exists():
            return
        recorded = json.loads(self.path.read_text())
        orphans = []
        for name, entry in recorded.items():
            try:
                process = psutil.Process(int(entry["pid"]))
                if abs(process.create_time() - float(entry["created"])) < 0.01:
                    report(f"stopping {name} (pid {process.pid}) left running by an earlier vip up")
                    process.terminate()
                    orphans.append(process)
            except psutil.NoSuchProcess:
                continue
        _, alive = psutil.wait_procs(orphans, timeout=grace_s)
        for process in alive:
            process.kill()
        self.path.unlink()
