"""The least loaded assignable members of a channel's service pool or top performers (the whole
channel's, or its people in one branch: `pool_name`), read once per transaction and kept valid in
memory while this transaction moves loads.

A slice is the first `limit` members by (load, agent id) as read, with the load each had then. Every
member not in it had a (load, id) after the last one read (the `boundary`), and this transaction
only ever raises such a person's load (a drop, or a person joining or leaving the pool, discards
the slice), so a member whose load is now below the boundary, or unchanged, still comes before
every non-member.
While at least `count` members are such, the slice holds the `count` least loaded, which is all a
choice among `count - 1` vacancies needs (`AgentRepository.candidates`).
"""

from collections.abc import Callable, Collection
from dataclasses import dataclass
from enum import StrEnum

from shared.events.values import Channel

Pool = tuple[Channel, str | None]
"""A serving channel and the customer's branch (None: unknown)."""


def pool_name(channel: Channel, branch: str | None) -> str:
    """The key of a slice: the channel's whole pool, or its people in `branch`."""
    return channel.value if branch is None else f"{channel.value}@{branch}"


class Kind(StrEnum):
    POOL = "pool"
    TOP_PERFORMERS = "top_performers"


READ_AHEAD = 50
"""Members read beyond those asked for, so a batch filling many vacancies reads a pool once."""


@dataclass(frozen=True, slots=True)
class _Slice:
    read_loads: dict[str, int]
    complete: bool
    """Fewer members than asked for: the slice is the whole pool."""
    boundary: int


class PoolSlices:
    def __init__(self) -> None:
        self._slices: dict[tuple[str, Kind], _Slice] = {}

    def members(self, channel: str, kind: Kind, count: int, load_of: Callable[[str], int]) -> set[str] | None:
        """Members surely including the `count` least loaded now; None: read the pool again."""
        found = self._slices.get((channel, kind))
        if found is None:
            return None
        if not found.complete:
            safe = 0
            for agent_id, read in found.read_loads.items():
                now = load_of(agent_id)
                if now < found.boundary or now == read:
                    safe += 1
            if safe < count:
                return None
        return set(found.read_loads)

    def remember(self, channel: str, kind: Kind, rows: list[tuple[str, int]], *, limit: int) -> set[str]:
        """`rows`: (agent id, load) of the first `limit` members by (load, agent id), in that order."""
        self._slices[(channel, kind)] = _Slice(
            read_loads=dict(rows), complete=len(rows) < limit, boundary=rows[-1][1] if rows else 0
        )
        return {agent_id for agent_id, _ in rows}

    def load_dropped(self, agent_id: str, member_of: Collection[tuple[str, Kind]] | None) -> None:
        """An assignable person's load went down: slices of the pools they are in (`member_of`; None:
        a person not loaded, who may be in any) that do not hold them are no longer right."""
        for key in list(self._slices):
            if (member_of is None or key in member_of) and agent_id not in self._slices[key].read_loads:
                del self._slices[key]

    def forget(self, pools: Collection[tuple[str, Kind]]) -> None:
        """A person joined or left these pools (a profile, a departure, a disqualification)."""
        for key in pools:
            self._slices.pop(key, None)
