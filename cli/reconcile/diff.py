"""The reconciliation's logic: two policy streams in policy-number order, merged into differences.

Pure over its inputs (no I/O, no clock: `as_of` is passed), so the tests hold it to tables of cases.
Invariants:
- Each policy number is judged once: in the snapshot only, on the platform only, or in both with a
  version or a state difference (or none). A second snapshot line for a policy number already seen
  is malformed (the snapshot must hold one state per policy).
- States are compared as the `pas.policy-events` contract reads them (`PolicyState`): "36000.0" and
  "36000.00" are the same premium; a snapshot state that does not validate is malformed.
- Points are the platform's own pure rule (`services.scoring.domain.points.score_policy`) on both
  states, counted on `as_of`; a customer's change is the sum over the differing policies they hold
  on either side (a holder change moves the points from one customer to the other).
- A correction is due (`publish`) when the snapshot's version is at or above the platform's (or the
  platform lacks the policy) and the states differ: the snapshot is the source of record.
"""

from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any, Literal

from pydantic import ValidationError

from cli.reconcile.snapshot import Line, Malformed
from services.scoring.domain.points import score_policy
from services.scoring.domain.policies import Policy
from shared.events.inbound import PolicyState
from shared.ruleset import Ruleset

Kind = Literal["malformed", "only_in_snapshot", "only_on_platform", "version", "state"]
ZERO = Decimal("0.00")


@dataclass(frozen=True, slots=True)
class Difference:
    kind: Kind
    policy_no: str
    line: int | None
    snapshot: PolicyState | None = None
    platform: PolicyState | None = None
    fields: tuple[str, ...] = ()
    snapshot_points: Decimal = ZERO
    platform_points: Decimal = ZERO
    publish: bool = False
    detail: str = ""


@dataclass
class Tally:
    """What a reconciliation found, as the summary counts it."""

    compared: int = 0
    agreeing: int = 0
    unchecked: int = 0
    """Platform policies the snapshot lacks, not judged without --full."""
    kinds: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    points_change: dict[str, Decimal] = field(default_factory=lambda: defaultdict(lambda: ZERO))

    def count(self, difference: Difference) -> None:
        self.kinds[difference.kind] += 1
        for holder, change in changes_of(difference):
            self.points_change[holder] += change

    @property
    def customers_changing(self) -> dict[str, Decimal]:
        return {holder: change for holder, change in sorted(self.points_change.items()) if change != ZERO}


def changes_of(difference: Difference) -> list[tuple[str, Decimal]]:
    moved: list[tuple[str, Decimal]] = []
    if difference.platform is not None and difference.platform_points:
        moved.append((difference.platform.holder_id, -difference.platform_points))
    if difference.snapshot is not None and difference.snapshot_points:
        moved.append((difference.snapshot.holder_id, difference.snapshot_points))
    return moved


def _points(state: PolicyState | None, *, ruleset: Ruleset, as_of: date) -> Decimal:
    if state is None:
        return ZERO
    return score_policy(Policy(**dict(state)), ruleset=ruleset, as_of=as_of).points


def _state(document: dict[str, Any]) -> PolicyState:
    return PolicyState.model_validate(document)


def judge(
    *, snapshot: Line | None, platform: dict[str, Any] | None, ruleset: Ruleset, as_of: date, full: bool
) -> Difference | None:
    """The difference for one policy number (None: they agree, or a platform-only one without --full)."""
    if snapshot is not None and platform is not None and snapshot.document == platform:
        return None
    policy_no = snapshot.policy_no if snapshot is not None else str(platform["policy_no"] if platform else "")
    try:
        theirs = _state(snapshot.document) if snapshot is not None else None
    except ValidationError as error:
        first = error.errors()[0]
        where = ".".join(str(part) for part in first["loc"])
        return Difference(
            "malformed", policy_no, snapshot.number if snapshot else None, detail=f"{where}: {first['msg']}"
        )
    ours = _state(platform) if platform is not None else None
    if theirs is not None and ours is not None and theirs == ours:
        return None
    fields = tuple(
        name
        for name in PolicyState.model_fields
        if ours is None or theirs is None or getattr(ours, name) != getattr(theirs, name)
    )
    kind: Kind
    if ours is None:
        kind = "only_in_snapshot"
    elif theirs is None:
        kind = "only_on_platform"
    elif theirs.version != ours.version:
        kind = "version"
    else:
        kind = "state"
    differs = ours is None or theirs is None or any(name != "version" for name in fields)
    return Difference(
        kind,
        policy_no,
        snapshot.number if snapshot is not None else None,
        snapshot=theirs,
        platform=ours,
        fields=fields if ours is not None and theirs is not None else (),
        snapshot_points=_points(theirs, ruleset=ruleset, as_of=as_of),
        platform_points=_points(ours, ruleset=ruleset, as_of=as_of),
        publish=theirs is not None and differs and (ours is None or theirs.version >= ours.version),
    )


def reconcile(
    snapshot: Iterable[Line | Malformed],
    platform: Iterable[dict[str, Any]],
    *,
    ruleset: Ruleset,
    as_of: date,
    full: bool,
    tally: Tally,
) -> Iterator[Difference]:
    """Merge the two streams (each in ascending policy-number order) and yield every difference."""
    theirs_iter, ours_iter = iter(snapshot), iter(platform)
    theirs, ours = next(theirs_iter, None), next(ours_iter, None)
    last_seen: dict[str, int] = {}
    """The last policy number judged and its line: in order, a repeat can only follow it."""
    while theirs is not None or ours is not None:
        if isinstance(theirs, Malformed) or (theirs is not None and theirs.policy_no in last_seen):
            if isinstance(theirs, Malformed):
                broken = Difference("malformed", "", theirs.number, detail=theirs.reason)
            else:
                repeated = f"policy_no repeats line {last_seen[theirs.policy_no]}"
                broken = Difference("malformed", theirs.policy_no, theirs.number, detail=repeated)
            tally.count(broken)
            yield broken
            theirs = next(theirs_iter, None)
            continue
        ours_no = str(ours["policy_no"]) if ours is not None else None
        if theirs is not None and (ours_no is None or theirs.policy_no <= ours_no):
            matched = ours if ours_no == theirs.policy_no else None
            difference = judge(snapshot=theirs, platform=matched, ruleset=ruleset, as_of=as_of, full=full)
            last_seen = {theirs.policy_no: theirs.number}
            theirs = next(theirs_iter, None)
            if matched is not None:
                ours = next(ours_iter, None)
        elif not full:
            tally.unchecked += 1
            ours = next(ours_iter, None)
            continue
        else:
            difference = judge(snapshot=None, platform=ours, ruleset=ruleset, as_of=as_of, full=full)
            ours = next(ours_iter, None)
        tally.compared += 1
        if difference is None:
            tally.agreeing += 1
            continue
        tally.count(difference)
        yield difference
