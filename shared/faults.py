"""Crash points for the fault tests: a process SIGKILLs itself at a named place, once.

`VIP_FAULT_CRASH_AT` lists the crashes to stage, `[service@]point:n` separated by commas: the process
kills itself with SIGKILL the n-th time it passes `point` (counted from its start). A marker file in
`VIP_FAULT_MARKER_DIR` (default: the temporary directory) records each crash, so the restarted process
passes the same point without dying again. Without `VIP_FAULT_CRASH_AT` every call is one comparison
with None.

The points, in the order one batch passes them:
- `before_commit`: the batch's handlers ran inside its transaction, nothing is committed yet;
- `after_commit`: committed, the relay has not published the batch's events yet;
- `after_publish`: the relay has published them, the Kafka offsets are not committed yet;
- `after_send`: in the relay, the broker acknowledged the events, their outbox rows are not deleted.
"""

import asyncio
import os
import signal
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from shared.messaging_tables import OUTBOX

CRASH_AT_VAR = "VIP_FAULT_CRASH_AT"
MARKER_DIR_VAR = "VIP_FAULT_MARKER_DIR"
POINTS = ("before_commit", "after_commit", "after_publish", "after_send")


class FaultPlanError(ValueError):
    pass


@dataclass
class CrashPlan:
    service: str
    marker_dir: Path
    crash_on_pass: dict[str, int]
    passes: dict[str, int] = field(default_factory=dict)

    def marker(self, point: str) -> Path:
        return self.marker_dir / f"{self.service}.{point}.crashed"

    def due(self, point: str) -> bool:
        """Counts one pass of `point`; True if this pass is the one to crash at (and not crashed yet)."""
        wanted = self.crash_on_pass.get(point)
        if wanted is None:
            return False
        passes = self.passes[point] = self.passes.get(point, 0) + 1
        return passes == wanted and not self.marker(point).exists()


def parse_plan(raw: str, *, service: str, marker_dir: Path) -> CrashPlan | None:
    crash_on_pass: dict[str, int] = {}
    for entry in filter(None, (part.strip() for part in raw.split(","))):
        target, at, spec = entry.rpartition("@")
        if at and target != service:
            continue
        point, _, count = spec.partition(":")
        if point not in POINTS or not count.isdigit() or int(count) < 1:
            raise FaultPlanError(f"{CRASH_AT_VAR} entry {entry!r}: expected [service@]point:n, point in {POINTS}")
        crash_on_pass[point] = int(count)
    if not crash_on_pass:
        return None
    return CrashPlan(service=service, marker_dir=marker_dir, crash_on_pass=crash_on_pass)


def _plan_from_env() -> CrashPlan | None:
    raw = os.environ.get(CRASH_AT_VAR, "")
    if not raw.strip():
        return None
    marker_dir = Path(os.environ.get(MARKER_DIR_VAR) or tempfile.gettempdir())
    return parse_plan(raw, service=os.environ.get("VIP_SERVICE_NAME", "service"), marker_dir=marker_dir)


_PLAN = _plan_from_env()
ARMED = _PLAN is not None
"""The one check production code makes before calling into this seam: False unless a crash is staged."""


def due(point: str) -> bool:
    """True if the process is to crash now at `point`; the caller may prepare, then call `crash`."""
    return _PLAN is not None and _PLAN.due(point)


def crash(point: str) -> None:
    """Record the crash in its marker file, then SIGKILL this process: no clean-up runs."""
    if _PLAN is None:
        return
    marker = _PLAN.marker(point)
    marker.parent.mkdir(parents=True, exist_ok=True)
    marker.write_text(f"pid {os.getpid()} pass {_PLAN.passes.get(point, 0)}\n")
    os.kill(os.getpid(), signal.SIGKILL)


def crash_point(point: str) -> None:
    if _PLAN is not None and _PLAN.due(point):
        crash(point)


async def crash_point_once_published(point: str, *, engine: AsyncEngine, timeout_s: float = 10.0) -> None:
    """At `point`, once the relay has published what was committed (the outbox is empty), crash.

    Lets `after_publish` stage "events out, offsets not committed" deterministically.
    """
    if _PLAN is None or not _PLAN.due(point):
        return
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        async with engine.connect() as connection:
            if not await connection.scalar(select(func.count()).select_from(OUTBOX)):
                break
        await asyncio.sleep(0.05)
    crash(point)
