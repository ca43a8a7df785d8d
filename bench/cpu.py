"""CPU seconds per process during a bench's measured phase: a steadier figure than events/s.

    python -m bench.cpu --start "pipeline: " --stop "events/s" -- python -m bench.pipeline --events 20000

Runs the command, and between the output line that contains `--start` and the next one containing
`--stop` reads the CPU time (user + system) of every process of the command's tree and of the
embedded PostgreSQL and broker it started (their command lines name the bench's data directory, or
they descend from it), sampled every 0.2 s so processes that end in between are still counted up to
their last sample. Prints the seconds per group (each service, PostgreSQL, the broker, the bench's
own client) and the total, then the last line `cpu_seconds=<total> wall_seconds=<phase>`.

Why: on a 2-core machine shared with other work, events/s swings with whatever else runs (runs of
the same tree have differed by 1.7x within minutes), while the CPU an event costs changes much less;
two trees compared by CPU per event, alternating, say which does less work.
"""

import argparse
import subprocess
import sys
import threading
import time
from collections import defaultdict

import psutil

_SERVICES = ("scoring", "tiering", "assignment", "entitlements")


def group_of(process: psutil.Process, *, root: int, known: set[int]) -> str | None:
    """The group a process belongs to, None when it is not the bench's (`known`: the bench's pids so
    far, the command's first; a PostgreSQL backend retitles itself but descends from the postmaster)."""
    try:
        command = " ".join(process.cmdline())
        name = process.name()
    except (psutil.NoSuchProcess, psutil.AccessDenied):
        return None
    for service in _SERVICES:
        if f"services.{service}.main" in command:
            return service
    if "vip-bench-" in command or _descends_from(process, known):
        if name.startswith("postgres") or "postgres" in command.split(" ")[0]:
            return "postgresql"
        if "tansu" in command:
            return "broker"
        if process.pid == root:
            return "bench client"
        return "other (vip up, dashboard)"
    return None


def _descends_from(process: psutil.Process, known: set[int]) -> bool:
    try:
        return process.pid in known or any(parent.pid in known for parent in process.parents())
    except (psutil.NoSuchProcess, psutil.AccessDenied):
        return False


class Meter:
    """Per-process CPU at the phase's start and at each later sample, summed by group."""

    def __init__(self, root: int) -> None:
        self._root = root
        self._first: dict[int, float] = {}
        self._last: dict[int, float] = {}
        self._groups: dict[int, str] = {}
        self._ignored: set[int] = set()
        self._lock = threading.Lock()
        self.measuring = False

    def sample(self) -> None:
        for process in psutil.process_iter():
            pid = process.pid
            if pid in self._ignored:
                continue
            if pid not in self._groups:
                group = group_of(process, root=self._root, known=set(self._groups) | {self._root})
                if group is None:
                    self._ignored.add(pid)
                    continue
                self._groups[pid] = group
            try:
                times = process.cpu_times()
            except (psutil.NoSuchProcess, psutil.AccessDenied):
                continue
            with self._lock:
                used = times.user + times.system
                self._first.setdefault(pid, used)
                self._last[pid] = used

    def start(self) -> None:
        with self._lock:
            self._first.clear()
            self._last.clear()
        self.sample()
        self.measuring = True

    def totals(self) -> dict[str, float]:
        by_group: dict[str, float] = defaultdict(float)
        with self._lock:
            for pid, used in self._last.items():
                by_group[self._groups[pid]] += used - self._first[pid]
        return dict(by_group)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--start", required=True, help="the output line that starts the measured phase")
    parser.add_argument("--stop", required=True, help="the output line that ends it")
    parser.add_argument("command", nargs=argparse.REMAINDER)
    arguments = parser.parse_args()
    command = arguments.command[1:] if arguments.command[:1] == ["--"] else arguments.command
    bench = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
    meter = Meter(bench.pid)
    stop = threading.Event()

    def keep_sampling() -> None:
        while not stop.wait(0.2):
            if meter.measuring:
                meter.sample()

    threading.Thread(target=keep_sampling, daemon=True).start()
    started = finished = 0.0
    assert bench.stdout is not None
    for line in bench.stdout:
        sys.stdout.write(line)
        sys.stdout.flush()
        if not meter.measuring and not started and arguments.start in line:
            meter.start()
            started = time.perf_counter()
        elif meter.measuring and arguments.stop in line:
            meter.sample()
            meter.measuring = False
            finished = time.perf_counter()
    stop.set()
    bench.wait()
    totals = meter.totals()
    for group, seconds in sorted(totals.items(), key=lambda item: -item[1]):
        print(f"  cpu {group:<28} {seconds:7.2f} s")
    print(f"cpu_seconds={sum(totals.values()):.2f} wall_seconds={finished - started:.2f}")
    sys.exit(bench.returncode)


if __name__ == "__main__":
    main()
