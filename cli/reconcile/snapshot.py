"""Reading a policy admin snapshot: JSON lines of `policy` objects, in policy-number order.

Invariants:
- Memory stays flat whatever the file's size: lines are read one at a time; an unsorted file is
  sorted externally (runs of `RUN_LINES` lines sorted in memory and written to temporary files, then
  merged with `heapq.merge`), never loaded whole.
- Order is plain string order of `policy_no` (code points), the order scoring's export uses
  (`COLLATE "C"`), so the two streams merge.
- A line that does not parse as a JSON object with a string `policy_no` is yielded as `Malformed`
  with its line number; it never stops the rest. Blank lines are skipped but still numbered.
"""

import heapq
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

RUN_LINES = 200_000


@dataclass(frozen=True, slots=True)
class Line:
    number: int
    policy_no: str
    document: dict[str, Any]


@dataclass(frozen=True, slots=True)
class Malformed:
    number: int
    reason: str


def parse(number: int, raw: bytes) -> Line | Malformed:
    try:
        document = orjson.loads(raw)
    except orjson.JSONDecodeError as error:
        return Malformed(number, f"not JSON: {error}")
    if not isinstance(document, dict):
        return Malformed(number, "not a JSON object")
    policy_no = document.get("policy_no")
    if not isinstance(policy_no, str) or not policy_no:
        return Malformed(number, "no policy_no")
    return Line(number, policy_no, document)


def _numbered(path: Path) -> Iterator[tuple[int, bytes]]:
    with path.open("rb") as handle:
        for number, raw in enumerate(handle, start=1):
            line = raw.rstrip(b"\r\n")
            if line.strip():
                yield number, line


def read(path: Path) -> Iterator[Line | Malformed]:
    """Every line, parsed, in file order."""
    for number, raw in _numbered(path):
        yield parse(number, raw)


def is_sorted(path: Path) -> bool:
    """Whether the well-formed lines come in strictly ascending policy-number order."""
    last = ""
    for item in read(path):
        if isinstance(item, Line):
            if item.policy_no <= last:
                return False
            last = item.policy_no
    return True


def _write_run(entries: list[tuple[str, int, bytes]], *, folder: Path, index: int) -> Path:
    entries.sort()
    path = folder / f"run-{index:05d}.bin"
    with path.open("wb") as out:
        for policy_no, number, raw in entries:
            out.write(orjson.dumps([policy_no, number, raw.decode()]) + b"\n")
    return path


def _run(path: Path) -> Iterator[tuple[str, int, str]]:
    with path.open("rb") as handle:
        for raw in handle:
            policy_no, number, line = orjson.loads(raw)
            yield policy_no, number, line


def in_order(path: Path, *, scratch: Path) -> Iterator[Line | Malformed]:
    """Every line in policy-number order (malformed ones first, in file order), with flat memory."""
    if is_sorted(path):
        yield from read(path)
        return
    runs: list[Path] = []
    entries: list[tuple[str, int, bytes]] = []
    for number, raw in _numbered(path):
        item = parse(number, raw)
        if isinstance(item, Malformed):
            yield item
            continue
        entries.append((item.policy_no, number, raw))
        if len(entries) >= RUN_LINES:
            runs.append(_write_run(entries, folder=scratch, index=len(runs)))
            entries = []
    if entries:
        runs.append(_write_run(entries, folder=scratch, index=len(runs)))
    for _policy_no, number, line in heapq.merge(*(_run(run) for run in runs)):
        yield parse(number, line.encode())
