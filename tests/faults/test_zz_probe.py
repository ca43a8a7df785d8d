import pytest
from tests.faults.oracle import RunResult

pytestmark = pytest.mark.faults

async def test_probe(baseline: RunResult) -> None:
    print(baseline.drain_s, baseline.max_stall_s)
    print({k: v for k, v in baseline.inboxes.items()})
    import collections
    print(collections.Counter(a[0] for a in baseline.answers.values()))
    print(collections.Counter(a[1].get("tier") for a in baseline.answers.values()))
    print(collections.Counter(bool(a[1].get("representative")) for a in baseline.answers.values()))
