"""Fixtures of the fault suite: the workload, and the fault-free run every fault run is compared with.

Every test here starts its own `vip up` (see `platform.py`) on the session's embedded PostgreSQL
(databases dropped between platforms) and a broker of its own.
"""

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from cli.postgres import EmbeddedPostgres
from tests.faults.oracle import RunResult, run_workload
from tests.faults.platform import FaultPlatform, fault_platform
from tests.faults.workload import Workload, build_workload, events_from_env


@pytest.fixture(scope="session")
def workload() -> Workload:
    return build_workload(events_from_env())


@pytest.fixture(scope="session")
def embedded_postgres(postgres: object) -> EmbeddedPostgres:
    if not isinstance(postgres, EmbeddedPostgres):
        pytest.skip("the fault tests stop and start PostgreSQL: they need the embedded one (unset VIP_POSTGRES_URL)")
    return postgres


@pytest.fixture(scope="session")
async def baseline(
    embedded_postgres: EmbeddedPostgres, workload: Workload, tmp_path_factory: pytest.TempPathFactory
) -> RunResult:
    """The fault-free run of the workload: what every fault run must end up with."""
    async with fault_platform(postgres=embedded_postgres, data_dir=tmp_path_factory.mktemp("baseline")) as platform:
        result = await run_workload(platform, workload)
    print(f"\nfault-free run: {len(workload.policy_events)} events applied by all four services "
          f"in {result.drain_s:.1f} s")
    return result


@pytest.fixture
async def platform(embedded_postgres: EmbeddedPostgres, tmp_path: Path) -> AsyncIterator[FaultPlatform]:
    """A fresh platform without staged faults."""
    async with fault_platform(postgres=embedded_postgres, data_dir=tmp_path / "platform") as running:
        yield running
