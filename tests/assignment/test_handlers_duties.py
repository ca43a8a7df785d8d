"""The duties' side of assignment's handlers against the in-memory unit of work (`fakes.py`): what a
tier decision and a CRM profile add to (or cancel from) a VIP's work list. No database."""

from datetime import date, timedelta

from services.assignment import handlers
from services.assignment.domain.duties import ItemState
from shared.events.values import Tier
from tests.assignment.fakes import FakeUnitOfWork
from tests.builders.assignment import T0, agent_upserted, customer_upserted, tier_decision


async def test_a_new_vip_gets_the_remaining_holidays_with_the_crm_birthday_and_a_delivery_for_a_new_policy() -> None:
    uow = FakeUnitOfWork()
    await handlers.on_agent_upserted(agent_upserted("A"), uow.typed())
    await handlers.on_customer_upserted(customer_upserted("C1", birthday=date(1975, 11, 3)), uow.typed())

    first = tier_decision("C1", revision=1, tier=Tier.GOLD, policies=[("A", "40000")])
    await handlers.on_tier_decided(first, uow.typed())

    items = uow.work_items.of("C1")
    year = T0.year  # decided on 2026-03-01: Spring Festival 2026 (02-17) has passed
    assert set(items) == {
        f"holiday:birthday:{year}", f"holiday:mid_autumn:{year}", f"holiday:national_day:{year}",
        f"holiday:mothers_day:{year}", f"holiday:fathers_day:{year}", "delivery:P1-C1",
    }
    assert all(state is ItemState.OPEN for _, state in items.values())
    assert items[f"holiday:birthday:{year}"][0].due_on == date(year, 11, 3)


async def test_a_customer_who_is_not_vip_gets_nothing_and_losing_vip_cancels_what_is_pending() -> None:
    uow = FakeUnitOfWork()
    await handlers.on_tier_decided(tier_decision("C0", revision=1, tier=None, policies=[("A", "10")]), uow.typed())
    assert uow.work_items.of("C0") == {}

    first = tier_decision("C1", revision=1, tier=Tier.GOLD, policies=[("A", "40000")])
    await handlers.on_tier_decided(first, uow.typed())
    await handlers.on_tier_decided(
        tier_decision("C1", revision=2, tier=None, policies=[("A", "40000")], at=T0 + timedelta(days=5)), uow.typed()
    )

    states = {state for _, state in uow.work_items.of("C1").values()}
    assert states == {ItemState.CANCELLED}


async def test_a_later_policy_of_a_vip_gives_one_more_delivery_and_no_second_holiday_year() -> None:
    uow = FakeUnitOfWork()
    first = tier_decision("C1", revision=1, tier=Tier.GOLD, policies=[("A", "40000")])
    await handlers.on_tier_decided(first, uow.typed())
    before = set(uow.work_items.of("C1"))

    later = T0 + timedelta(days=40)
    await handlers.on_tier_decided(
        tier_decision("C1", revision=2, tier=Tier.GOLD, policies=[("A", "40000"), ("A", "5000")], at=later),
        uow.typed(),
    )

    assert set(uow.work_items.of("C1")) - before == {"delivery:P2-C1"}


async def test_a_birthday_arriving_after_the_vip_gives_the_birthday_item_if_still_ahead() -> None:
    uow = FakeUnitOfWork()
    await handlers.on_tier_decided(tier_decision("C1", revision=1, tier=Tier.GOLD), uow.typed())
    await handlers.on_tier_decided(tier_decision("C2", revision=1, tier=Tier.GOLD), uow.typed())

    await handlers.on_customer_upserted(customer_upserted("C1", birthday=date(1980, 8, 8), at=T0), uow.typed())
    await handlers.on_customer_upserted(customer_upserted("C2", birthday=date(1980, 1, 8), at=T0), uow.typed())

    assert f"holiday:birthday:{T0.year}" in uow.work_items.of("C1")
    assert f"holiday:birthday:{T0.year}" not in uow.work_items.of("C2")  # already past this year


async def test_an_older_crm_profile_is_stale() -> None:
    uow = FakeUnitOfWork()
    await handlers.on_customer_upserted(customer_upserted("C1", birthday=date(1980, 8, 8), at=T0), uow.typed())

    await handlers.on_customer_upserted(
        customer_upserted("C1", birthday=date(1981, 1, 1), at=T0 - timedelta(days=1)), uow.typed()
    )

    assert uow.stale_events == 1 and uow.profiles.stored["C1"].birthday == date(1980, 8, 8)
