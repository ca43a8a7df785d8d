"""Entitlements' handlers against the in-memory unit of work: no database, no broker."""

import uuid
from datetime import UTC, date, datetime

import pytest

from services.entitlements import handlers
from services.entitlements.domain.customers import Representative as StoredRepresentative
from shared.events.internal import Representative, RepresentativeChanged
from shared.events.values import Channel, Standard, Tier
from shared.ruleset import Ruleset, load_ruleset
from shared.settings import DEFAULT_RULESET_PATH
from tests.builders.decisions import tier_decided
from tests.entitlements.fakes import FakeUnitOfWork

RULESET: Ruleset = load_ruleset(DEFAULT_RULESET_PATH)
DAY = date(2026, 3, 16)


@pytest.fixture
def uow() -> FakeUnitOfWork:
    return FakeUnitOfWork(ruleset=RULESET)


def representative_changed(customer: str, *, revision: int, agent_id: str | None) -> RepresentativeChanged:
    return RepresentativeChanged(
        event_id=uuid.uuid4().hex,
        occurred_at=datetime.now(UTC),
        correlation_id=uuid.uuid4().hex,
        customer_id=customer,
        revision=revision,
        representative=Representative(agent_id=agent_id, name=f"Agent {agent_id}", channel=Channel.AGENCY)
        if agent_id
        else None,
        reason="test",
        effective_at=DAY,
    )


async def test_a_first_tier_decision_keeps_the_customer_and_opens_a_twelve_month_period(uow: FakeUnitOfWork) -> None:
    published = await handlers.on_tier_decided(
        tier_decided("C1", revision=1, tier=Tier.GOLD, effective_at=DAY, points="40000.00", branch="GD-SZ"),
        uow.typed(),
    )

    customer = uow.customers.stored["C1"]
    assert published == []
    assert (customer.tier, customer.tier_revision, customer.branch) == (Tier.GOLD, 1, "GD-SZ")
    assert (customer.standard, str(customer.points), customer.serving_channel) == (Standard.Y2015, "40000.00", "agency")
    assert uow.customers.timeline == [("C1", 1, DAY, Tier.GOLD)]
    assert uow.periods.of("C1") == [(Tier.GOLD, DAY, date(2027, 3, 15), "open", "tier_decided")]


async def test_a_stale_tier_decision_changes_nothing_and_is_recorded_stale(uow: FakeUnitOfWork) -> None:
    await handlers.on_tier_decided(tier_decided("C1", revision=2, tier=Tier.PLATINUM, effective_at=DAY), uow.typed())
    before = uow.customers.stored["C1"]

    published = await handlers.on_tier_decided(
        tier_decided("C1", revision=1, tier=Tier.DIAMOND, effective_at=DAY), uow.typed()
    )

    assert published == []
    assert uow.stale_events == 1
    assert uow.customers.stored["C1"] == before
    assert [period[0] for period in uow.periods.of("C1")] == [Tier.PLATINUM]


async def test_a_rise_replaces_the_period_and_a_downgrade_keeps_it(uow: FakeUnitOfWork) -> None:
    rise_on, fall_on = date(2026, 4, 1), date(2026, 5, 1)
    for revision, tier, day in ((1, Tier.GOLD, DAY), (2, Tier.DIAMOND, rise_on), (3, Tier.PLATINUM, fall_on)):
        await handlers.on_tier_decided(tier_decided("C1", revision=revision, tier=tier, effective_at=day), uow.typed())

    assert uow.customers.stored["C1"].tier == Tier.PLATINUM
    assert uow.periods.of("C1") == [
        (Tier.GOLD, DAY, date(2027, 3, 15), "replaced", "tier_decided"),
        (Tier.DIAMOND, rise_on, date(2027, 3, 31), "open", "tier_decided"),
    ]


async def test_losing_vip_keeps_the_open_period_and_the_branch_follows_the_main_policy(uow: FakeUnitOfWork) -> None:
    await handlers.on_tier_decided(
        tier_decided("C1", revision=1, tier=Tier.DIAMOND, effective_at=DAY, branch="BJ-01"), uow.typed()
    )
    await handlers.on_tier_decided(
        tier_decided("C1", revision=2, tier=None, effective_at=date(2026, 6, 1), branch="GD-SZ"), uow.typed()
    )

    customer = uow.customers.stored["C1"]
    assert (customer.tier, customer.vip_since) == (None, None)
    assert customer.branch == "GD-SZ"
    assert [(p[0], p[3]) for p in uow.periods.of("C1")] == [(Tier.DIAMOND, "open")]


async def test_a_representative_is_kept_and_a_stale_one_ignored(uow: FakeUnitOfWork) -> None:
    await handlers.on_representative_changed(representative_changed("C1", revision=2, agent_id="A1"), uow.typed())
    await handlers.on_representative_changed(representative_changed("C1", revision=1, agent_id="A9"), uow.typed())

    customer = uow.customers.stored["C1"]
    assert customer.representative == StoredRepresentative(agent_id="A1", name="Agent A1", channel=Channel.AGENCY)
    assert (customer.representative_revision, customer.tier_revision, customer.tier) == (2, 0, None)
    assert uow.stale_events == 1
    assert uow.periods.of("C1") == []


async def test_a_representative_leaving_clears_it_without_touching_the_tier(uow: FakeUnitOfWork) -> None:
    await handlers.on_tier_decided(tier_decided("C1", revision=1, tier=Tier.GOLD, effective_at=DAY), uow.typed())
    await handlers.on_representative_changed(representative_changed("C1", revision=1, agent_id="A1"), uow.typed())
    await handlers.on_representative_changed(representative_changed("C1", revision=2, agent_id=None), uow.typed())

    customer = uow.customers.stored["C1"]
    assert (customer.representative, customer.representative_revision) == (None, 2)
    assert (customer.tier, customer.tier_revision) == (Tier.GOLD, 1)


async def test_the_customers_branch_is_tierings_when_the_decision_names_one(uow: FakeUnitOfWork) -> None:
    """rules.md section 4: the CRM profile's branch wins over the top policy's (tiering decides it)."""
    decided = tier_decided("C1", revision=1, tier=Tier.GOLD, effective_at=DAY, branch="GD-SZ")
    await handlers.on_tier_decided(decided.model_copy(update={"branch": "BJ-01"}), uow.typed())
    assert uow.customers.stored["C1"].branch == "BJ-01"

    await handlers.on_tier_decided(tier_decided("C2", revision=1, tier=Tier.GOLD, branch="GD-SZ"), uow.typed())
    assert uow.customers.stored["C2"].branch == "GD-SZ"
