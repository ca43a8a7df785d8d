"""Tiering's handlers against the in-memory unit of work (`fakes.py`): no database, no broker.

`test_batches.py` runs the same handlers on the real PostgreSQL: the proof that fake and real agree.
"""

from collections.abc import Sequence
from datetime import date
from decimal import Decimal
from pathlib import Path

from services.tiering.handlers import on_customer_scored, on_legacy_vip_imported
from shared.events.inbound import CUSTOMER_EVENT_ADAPTER, LegacyVipImported
from shared.events.internal import TierDecided
from shared.events.values import Standard, Tier
from shared.ruleset import load_ruleset
from tests.builders.scores import roster_entry, scored
from tests.tiering.fakes import FakeUnitOfWork

RULESET = load_ruleset(Path(__file__).resolve().parents[2] / "rulesets" / "individual-2015.yaml")


def roster(customer_id: str, *, since: str = "2012-05-01") -> LegacyVipImported:
    event = CUSTOMER_EVENT_ADAPTER.validate_python(roster_entry(customer_id, since=since))
    assert isinstance(event, LegacyVipImported)
    return event


def decided(events: Sequence[object]) -> list[TierDecided]:
    assert all(isinstance(event, TierDecided) for event in events)
    return [event for event in events if isinstance(event, TierDecided)]


async def test_a_first_score_publishes_the_tier_it_reaches_with_revision_one() -> None:
    uow = FakeUnitOfWork(ruleset=RULESET)
    event = scored("C1", revision=1, points="36000.00", standard_premium="36000.00")

    [published] = decided(await on_customer_scored(event, uow.as_tiering()))

    assert (published.tier, published.previous_tier, published.standard, published.revision) == (
        Tier.GOLD,
        None,
        Standard.Y2015,
        1,
    )
    assert published.points == Decimal("36000.00")
    assert published.reason == "2015 standard: 36,000.00 points >= Gold 30,000 (new_business)"
    assert published.correlation_id == event.correlation_id
    assert [policy.policy_no for policy in published.policies] == ["P-C1"]
    assert [(saved.revision, saved.event_id) for saved in uow.decisions.saved] == [(1, published.event_id)]
    stored = uow.customers.stored["C1"]
    assert (stored.revision, stored.state.score_revision, stored.state.due_on) == (1, 1, None)


async def test_a_stale_score_publishes_nothing_and_is_recorded_stale() -> None:
    uow = FakeUnitOfWork(ruleset=RULESET)
    await on_customer_scored(scored("C1", revision=2, points="80000.00"), uow.as_tiering())

    stale = await on_customer_scored(scored("C1", revision=2, points="10.00", trigger="lapse"), uow.as_tiering())
    older = await on_customer_scored(scored("C1", revision=1, points="10.00"), uow.as_tiering())

    assert (stale, older, uow.stale_events) == ([], [], 2)
    stored = uow.customers.stored["C1"]
    assert stored.state.shown is not None and stored.state.shown.tier is Tier.PLATINUM
    assert (stored.revision, stored.state.score_revision, len(uow.decisions.saved)) == (1, 2, 1)


async def test_a_score_that_changes_nothing_visible_is_applied_but_not_published() -> None:
    uow = FakeUnitOfWork(ruleset=RULESET)
    await on_customer_scored(scored("C1", revision=1, points="36000.00"), uow.as_tiering())

    same = await on_customer_scored(scored("C1", revision=2, points="36000.00"), uow.as_tiering())

    assert same == []
    assert uow.stale_events == 0
    stored = uow.customers.stored["C1"]
    assert (stored.revision, stored.state.score_revision, len(uow.decisions.saved)) == (1, 2, 1)


async def test_each_event_of_a_unit_of_work_sees_what_the_one_before_saved() -> None:
    uow = FakeUnitOfWork(ruleset=RULESET)
    first = decided(await on_customer_scored(scored("C1", revision=1, points="36000.00"), uow.as_tiering()))
    second = decided(
        await on_customer_scored(
            scored("C1", revision=2, points="10.00", as_of=date(2026, 4, 1), trigger="surrender"), uow.as_tiering()
        )
    )

    assert [(event.revision, event.tier, event.previous_tier) for event in (*first, *second)] == [
        (1, Tier.GOLD, None),
        (2, None, Tier.GOLD),
    ]
    assert second[0].vip_since is None


async def test_a_roster_entry_before_any_score_waits_for_the_first_score() -> None:
    uow = FakeUnitOfWork(ruleset=RULESET)

    waiting = await on_legacy_vip_imported(roster("C1", since="2011-03-01"), uow.as_tiering())
    [published] = decided(
        await on_customer_scored(
            scored("C1", revision=1, points="12000.00", standard_premium="25000.00", as_of=date(2015, 9, 1)),
            uow.as_tiering(),
        )
    )

    assert waiting == []
    assert (published.tier, published.standard, published.vip_since) == (Tier.GOLD, Standard.LEGACY, date(2011, 3, 1))
    assert "legacy standard kept" in published.reason


async def test_a_roster_entry_after_the_scores_re_decides_with_the_last_score_and_its_policies() -> None:
    uow = FakeUnitOfWork(ruleset=RULESET)
    await on_customer_scored(
        scored("C1", revision=1, points="12000.00", standard_premium="25000.00", as_of=date(2015, 9, 1)),
        uow.as_tiering(),
    )
    entry = roster("C1")

    [published] = decided(await on_legacy_vip_imported(entry, uow.as_tiering()))

    assert (published.tier, published.standard, published.trigger, published.revision) == (
        Tier.GOLD,
        Standard.LEGACY,
        "legacy_vip_imported",
        2,
    )
    assert (published.vip_since, published.effective_at) == (date(2012, 5, 1), date(2015, 10, 1))
    assert published.correlation_id == entry.event_id
    assert [policy.policy_no for policy in published.policies] == ["P-C1"]


async def test_a_batch_of_scores_of_a_large_book_decides_once_with_the_last_against_what_was_shown() -> None:
    uow = FakeUnitOfWork(ruleset=RULESET)
    uow.coalesce_from_policies = 1  # each score here carries one policy
    [first] = decided(await on_customer_scored(scored("C1", revision=1, points="36000.00"), uow.as_tiering()))
    batch = [scored("C1", revision=revision, points=points, trigger=f"policy-{revision}")
             for revision, points in ((2, "60000.00"), (3, "90000.00"), (4, "260000.00"))]
    await uow.prepare(batch)

    published = [event for item in batch for event in decided(await on_customer_scored(item, uow.as_tiering()))]

    [last] = published
    assert (last.revision, last.points, last.trigger) == (2, Decimal("260000.00"), "policy-4")
    assert (last.previous_tier, last.tier) == (first.tier, Tier.DIAMOND)
    assert [saved.revision for saved in uow.decisions.saved] == [1, 2]
    assert uow.customers.stored["C1"].state.score_revision == 4


async def test_a_batch_of_scores_of_a_small_book_decides_each_score() -> None:
    uow = FakeUnitOfWork(ruleset=RULESET)
    batch = [scored("C1", revision=1, points="36000.00"), scored("C1", revision=2, points="80000.00")]
    await uow.prepare(batch)

    published = [event for item in batch for event in decided(await on_customer_scored(item, uow.as_tiering()))]

    assert [(event.revision, event.tier) for event in published] == [(1, Tier.GOLD), (2, Tier.PLATINUM)]
