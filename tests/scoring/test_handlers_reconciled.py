"""`policy_reconciled` (sent by `vip reconcile --publish`) on the in-memory unit of work: it corrects
the state held at the same version, is recorded as a reconciliation, and is stale below the version
held or when the state is already the same."""

from decimal import Decimal
from typing import Any

from services.scoring.handlers import on_policy_changed
from shared.events.inbound import POLICY_EVENT_ADAPTER, PolicyChanged
from shared.events.internal import CustomerScored
from shared.ruleset import load_ruleset
from shared.settings import DEFAULT_RULESET_PATH
from tests.builders.policies import policy_event
from tests.scoring.fakes import FakeUnitOfWork

RULESET = load_ruleset(DEFAULT_RULESET_PATH)
LATER = "2026-10-08T10:00:00+08:00"


def event(**fields: Any) -> PolicyChanged:
    return POLICY_EVENT_ADAPTER.validate_python(policy_event(occurred_at=LATER, **fields))


async def handle(uow: FakeUnitOfWork, item: PolicyChanged) -> list[Any]:
    published = await on_policy_changed(item, uow.as_unit_of_work())
    uow.commit()
    return published


async def test_a_reconciliation_at_the_same_version_corrects_the_state_and_is_recorded() -> None:
    uow = FakeUnitOfWork(ruleset=RULESET)
    await handle(uow, event(policy_no="P1", holder_id="C1", version=4))
    correction = event(policy_no="P1", holder_id="C1", version=4, event_type="policy_reconciled", status="surrendered")

    [scored] = await handle(uow, correction)

    assert isinstance(scored, CustomerScored)
    assert (scored.trigger, scored.points) == ("policy_reconciled", Decimal("0.00"))
    assert uow.policies.reconciled == [{"event_id": correction.event_id, "version": 4, "previous_version": 4}]
    assert uow.policies.last_event_types["P1"] == "policy_reconciled"


async def test_a_reconciliation_of_an_unknown_policy_creates_it() -> None:
    uow = FakeUnitOfWork(ruleset=RULESET)

    [scored] = await handle(uow, event(policy_no="P9", holder_id="C9", version=2, event_type="policy_reconciled"))

    assert scored.points == Decimal("36000.00")
    assert uow.policies.reconciled[0]["previous_version"] is None


async def test_a_reconciliation_below_the_version_held_or_with_the_same_state_changes_nothing() -> None:
    uow = FakeUnitOfWork(ruleset=RULESET)
    await handle(uow, event(policy_no="P1", holder_id="C1", version=5))

    older = await handle(uow, event(policy_no="P1", holder_id="C1", version=4, event_type="policy_reconciled"))
    same = await handle(uow, event(policy_no="P1", holder_id="C1", version=5, event_type="policy_reconciled"))

    assert (older, same) == ([], [])
    assert uow.policies.reconciled == []
    assert [row["event_type"] for row in uow.policies.stale] == ["policy_reconciled", "policy_reconciled"]


async def test_an_ordinary_event_at_the_same_version_stays_stale() -> None:
    uow = FakeUnitOfWork(ruleset=RULESET)
    await handle(uow, event(policy_no="P1", holder_id="C1", version=5))

    assert (
        await handle(uow, event(policy_no="P1", holder_id="C1", version=5, event_type="lapse", status="lapsed")) == []
    )
