"""A late cooling-off cancellation against the in-memory unit of work (rules.md section 4)."""

from datetime import date

import pytest

from services.entitlements import handlers
from shared.events.values import Tier
from shared.ruleset import Ruleset, load_ruleset
from shared.settings import DEFAULT_RULESET_PATH
from tests.builders.decisions import tier_decided, with_policies
from tests.entitlements.fakes import FakeUnitOfWork

RULESET: Ruleset = load_ruleset(DEFAULT_RULESET_PATH)
GOLD_ON, UPGRADED_ON, CANCELLED_ON = date(2026, 3, 1), date(2026, 6, 1), date(2026, 6, 20)
CANCELLATION = "cooling_off_cancellation"


@pytest.fixture
def uow() -> FakeUnitOfWork:
    return FakeUnitOfWork(ruleset=RULESET)


async def gold_then_platinum_by(uow: FakeUnitOfWork, *, upgrading_policy: str, gold_from: date = GOLD_ON) -> None:
    gold = tier_decided("C1", revision=1, tier=Tier.GOLD, effective_at=gold_from)
    platinum = tier_decided("C1", revision=2, tier=Tier.PLATINUM, effective_at=UPGRADED_ON)
    await handlers.on_tier_decided(with_policies(gold, trigger="new_business", counted=("A",)), uow.typed())
    await handlers.on_tier_decided(
        with_policies(platinum, trigger="new_business", counted=("A", upgrading_policy)), uow.typed()
    )


async def test_the_period_the_cancelled_policy_opened_is_withdrawn_and_the_one_it_replaced_reopens(
    uow: FakeUnitOfWork,
) -> None:
    await gold_then_platinum_by(uow, upgrading_policy="B")
    cancelled = tier_decided("C1", revision=3, tier=Tier.GOLD, effective_at=CANCELLED_ON)

    await handlers.on_tier_decided(with_policies(cancelled, trigger=CANCELLATION, counted=("A",), excluded=("B",)),
                                   uow.typed())

    assert uow.periods.of("C1") == [
        (Tier.GOLD, GOLD_ON, date(2027, 2, 28), "open", "tier_decided"),
        (Tier.PLATINUM, UPGRADED_ON, date(2026, 6, 19), "withdrawn", "tier_decided"),
    ]


async def test_nothing_reopens_when_the_replaced_period_ended_before_the_cancellation(uow: FakeUnitOfWork) -> None:
    await gold_then_platinum_by(uow, upgrading_policy="B", gold_from=date(2025, 6, 1))
    cancelled = tier_decided("C1", revision=3, tier=Tier.GOLD, effective_at=CANCELLED_ON)

    await handlers.on_tier_decided(with_policies(cancelled, trigger=CANCELLATION, counted=("A",), excluded=("B",)),
                                   uow.typed())

    assert [(tier, state) for tier, _, _, state, _ in uow.periods.of("C1")] == [
        (Tier.GOLD, "replaced"), (Tier.PLATINUM, "withdrawn")
    ]
    assert uow.periods.open == {}


@pytest.mark.parametrize(
    ("trigger", "tier_after", "excluded", "why"),
    [
        (CANCELLATION, Tier.PLATINUM, ("B",), "other counting policies still reach platinum"),
        ("surrender", Tier.GOLD, ("B",), "an ordinary downgrade never shortens a period"),
        (CANCELLATION, Tier.GOLD, ("Z",), "the cancelled policy was not counting when the period opened"),
    ],
)
async def test_nothing_is_withdrawn(
    uow: FakeUnitOfWork, trigger: str, tier_after: Tier, excluded: tuple[str, ...], why: str
) -> None:
    await gold_then_platinum_by(uow, upgrading_policy="B")
    decided = tier_decided("C1", revision=3, tier=tier_after, effective_at=CANCELLED_ON)

    await handlers.on_tier_decided(with_policies(decided, trigger=trigger, counted=("A",), excluded=excluded),
                                   uow.typed())

    assert uow.periods.open["C1"].period.tier is Tier.PLATINUM, why
    assert uow.periods.open["C1"].period.end == date(2027, 5, 31), why
