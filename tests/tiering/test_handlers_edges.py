"""Issue 17 on tiering's handlers, against the in-memory unit of work (`fakes.py`): the CRM profile's
branch, and what every decision now carries (branch, serving channel under the customer's standard,
pending points). `test_service_edges.py` runs the same on PostgreSQL and the broker.
"""

import uuid
from datetime import date
from decimal import Decimal

from services.tiering.handlers import on_customer_scored, on_customer_upserted
from shared.events.inbound import CUSTOMER_EVENT_ADAPTER, CustomerUpserted
from shared.events.internal import PolicyContribution, TierDecided
from shared.events.values import Channel, Standard, Tier
from shared.ruleset import load_ruleset
from shared.settings import DEFAULT_RULESET_PATH
from tests.builders.scores import scored
from tests.tiering.fakes import FakeUnitOfWork

RULESET = load_ruleset(DEFAULT_RULESET_PATH)


def profile(customer_id: str, *, branch: str, occurred_at: str = "2026-10-10T09:00:00+08:00") -> CustomerUpserted:
    event = CUSTOMER_EVENT_ADAPTER.validate_python({
        "event_id": uuid.uuid4().hex,
        "event_type": "customer_upserted",
        "occurred_at": occurred_at,
        "customer": {"customer_id": customer_id, "name": "Li Lei", "birthday": None, "branch": branch},
    })
    assert isinstance(event, CustomerUpserted)
    return event


def only(events: list[object]) -> TierDecided:
    [event] = events
    assert isinstance(event, TierDecided)
    return event


async def test_a_profile_before_any_decision_is_kept_for_the_first_one() -> None:
    uow = FakeUnitOfWork(ruleset=RULESET)
    waiting = await on_customer_upserted(profile("C1", branch="BJ-HD"), uow.as_tiering())
    first = only(await on_customer_scored(scored("C1", revision=1, points="36000.00"), uow.as_tiering()))
    assert waiting == []
    assert (first.tier, first.branch, first.serving_channel) == (Tier.GOLD, "BJ-HD", Channel.AGENCY)


async def test_a_profile_re_publishes_only_when_the_branch_changes() -> None:
    uow = FakeUnitOfWork(ruleset=RULESET)
    first = only(await on_customer_scored(scored("C1", revision=1, points="36000.00"), uow.as_tiering()))
    same = await on_customer_upserted(profile("C1", branch="GD-SZ"), uow.as_tiering())
    moved = only(await on_customer_upserted(profile("C1", branch="BJ-HD"), uow.as_tiering()))
    again = await on_customer_upserted(profile("C1", branch="BJ-HD"), uow.as_tiering())

    assert first.branch == "GD-SZ", "no profile yet: the main policy's branch"
    assert (same, again) == ([], [])
    assert (moved.revision, moved.branch, moved.tier, moved.trigger) == (2, "BJ-HD", Tier.GOLD, "customer_upserted")
    assert (moved.effective_at, [p.policy_no for p in moved.policies]) == (date(2026, 10, 10), ["P-C1"])
    assert [saved.revision for saved in uow.decisions.saved] == [1, 2]


async def test_a_decision_carries_pending_points_and_the_legacy_serving_channel() -> None:
    uow = FakeUnitOfWork(ruleset=RULESET)
    base = scored("C1", revision=1, points="8000.00", standard_premium="40000.00", as_of=date(2016, 3, 1))
    bank = PolicyContribution(
        policy_no="PB", channel=Channel.BANCASSURANCE, branch="GD-GZ", agent_id=None, issued_on=date(2016, 1, 1),
        points=Decimal("30000.00"), standard_premium=Decimal("3000.00"), state="counted", explanation="x",
    )
    pending = PolicyContribution(
        policy_no="PP", channel=Channel.AGENCY, branch="GD-SZ", agent_id=None, issued_on=date(2016, 2, 20),
        points=Decimal("0.00"), standard_premium=Decimal("0.00"), state="pending", pending_until=date(2016, 3, 6),
        explanation="pending",
    )
    event = base.model_copy(update={
        "policies": (*base.policies, bank, pending),
        "pending_points": Decimal("36000.00"),
        "legacy_standard_premium_before_cutover": Decimal("40000.00"),
    })
    decided = only(await on_customer_scored(event, uow.as_tiering()))
    assert (decided.standard, decided.tier, decided.serving_channel, decided.branch) == (
        Standard.LEGACY, Tier.GOLD, Channel.AGENCY, "GD-SZ"
    )
    assert (decided.pending_points, decided.pending_from) == (Decimal("36000.00"), date(2016, 3, 7))
