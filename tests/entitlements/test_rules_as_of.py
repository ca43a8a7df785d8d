"""The customer as decided for a past day (domain/as_of.py): which history row answers, what a
correction is, which days are refused; and the handlers recording the history (in-memory unit of work)."""

import uuid
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from services.entitlements import handlers
from services.entitlements.domain.as_of import HistoryRow, check_as_of, customer_as_of
from services.entitlements.domain.customers import Representative
from shared.events.internal import Representative as RepresentativeContract
from shared.events.internal import RepresentativeChanged
from shared.events.values import Channel, Tier
from shared.refusals import Invalid
from shared.ruleset import Ruleset, load_ruleset
from shared.settings import DEFAULT_RULESET_PATH
from tests.builders.decisions import tier_decided
from tests.entitlements.fakes import FakeUnitOfWork

RULESET: Ruleset = load_ruleset(DEFAULT_RULESET_PATH)
TODAY = date(2026, 12, 2)
ALICE = Representative(agent_id="A1", name="Alice", channel=Channel.AGENCY)


def at(day: date, hour: int = 10) -> datetime:
    """A moment on `day` in the insurer's zone."""
    return datetime(day.year, day.month, day.day, hour, tzinfo=RULESET.zone)


def tier_row(revision: int, effective_on: date, recorded_on: date, tier: Tier | None, **state: Any) -> HistoryRow:
    return HistoryRow(
        kind="tier", revision=revision, effective_on=effective_on, recorded_at=at(recorded_on),
        state={"tier": tier, "points": Decimal("1.00"), **state},
    )


def representative_row(revision: int, effective_on: date, recorded_on: date, who: Representative | None) -> HistoryRow:
    return HistoryRow(
        kind="representative", revision=revision, effective_on=effective_on, recorded_at=at(recorded_on),
        state={"representative": who},
    )


JAN, MAR, JUN = date(2026, 1, 10), date(2026, 3, 1), date(2026, 6, 1)
ON_TIME = [tier_row(1, JAN, JAN, Tier.GOLD), tier_row(2, JUN, JUN, Tier.PLATINUM)]


@pytest.mark.parametrize(
    ("day", "tier"),
    [
        (JAN, Tier.GOLD),  # the day a decision is effective, it answers
        (JUN - timedelta(days=1), Tier.GOLD),
        (JUN, Tier.PLATINUM),
        (date(2026, 11, 30), Tier.PLATINUM),
    ],
)
def test_the_answer_for_a_day_is_the_last_decision_effective_by_then(day: date, tier: Tier) -> None:
    found = customer_as_of("C1", rows=ON_TIME, day=day, ruleset=RULESET)
    assert found is not None and found.customer.tier == tier
    assert found.corrections == ()


def test_before_the_first_effective_decision_the_customer_was_not_known() -> None:
    assert customer_as_of("C1", rows=ON_TIME, day=JAN - timedelta(days=1), ruleset=RULESET) is None
    assert customer_as_of("C1", rows=[], day=JAN, ruleset=RULESET) is None


def test_a_late_decision_answers_from_its_effective_day_and_shows_as_a_correction_of_the_days_answered() -> None:
    late = [*ON_TIME, tier_row(3, MAR, date(2026, 11, 1), Tier.DIAMOND)]
    before_it = customer_as_of("C1", rows=late, day=MAR - timedelta(days=1), ruleset=RULESET)
    assert before_it is not None and before_it.customer.tier == Tier.GOLD and before_it.corrections == ()

    april = customer_as_of("C1", rows=late, day=date(2026, 4, 1), ruleset=RULESET)
    assert april is not None and april.customer.tier == Tier.DIAMOND
    [correction] = april.corrections
    assert (correction.kind, correction.revision, correction.effective_on) == ("tier", 3, MAR)
    assert correction.changed == {"tier": (Tier.GOLD, Tier.DIAMOND)}  # points unchanged: not listed

    # In July the on-time Platinum of June was the answer until the late row, recorded since, replaced it.
    july = customer_as_of("C1", rows=late, day=date(2026, 7, 1), ruleset=RULESET)
    assert july is not None and july.customer.tier == Tier.DIAMOND
    assert [(c.revision, c.changed["tier"]) for c in july.corrections] == [(3, (Tier.PLATINUM, Tier.DIAMOND))]

    # Recorded on or before the day asked about: the ordinary course of that day, no correction.
    assert customer_as_of("C1", rows=late, day=date(2026, 11, 1), ruleset=RULESET).corrections == ()  # type: ignore[union-attr]


def test_a_late_row_that_changes_nothing_for_the_day_is_no_correction() -> None:
    same = [*ON_TIME, tier_row(3, MAR, date(2026, 11, 1), Tier.GOLD)]
    found = customer_as_of("C1", rows=same, day=date(2026, 4, 1), ruleset=RULESET)
    assert found is not None and found.corrections == ()


def test_the_representative_has_its_own_history_on_the_same_effective_days() -> None:
    rows = [*ON_TIME, representative_row(1, MAR, MAR, ALICE), representative_row(2, JUN, JUN, None)]
    assert customer_as_of("C1", rows=rows, day=JAN, ruleset=RULESET).customer.representative is None  # type: ignore[union-attr]
    assert customer_as_of("C1", rows=rows, day=MAR, ruleset=RULESET).customer.representative == ALICE  # type: ignore[union-attr]
    assert customer_as_of("C1", rows=rows, day=JUN, ruleset=RULESET).customer.representative is None  # type: ignore[union-attr]
    # Known through a representative alone (no tier decision yet): known, without a tier.
    only = customer_as_of("C1", rows=[representative_row(1, MAR, MAR, ALICE)], day=MAR, ruleset=RULESET)
    assert only is not None and only.customer.tier is None and only.customer.representative == ALICE


@pytest.mark.parametrize(
    ("day", "allow_future", "reason"),
    [
        (date(2015, 7, 31), False, "as_of_before_cutover"),
        (date(2015, 7, 31), True, "as_of_before_cutover"),
        (TODAY + timedelta(days=1), False, "as_of_in_future"),
        (date(2015, 8, 1), False, None),
        (TODAY, False, None),
        (TODAY + timedelta(days=400), True, None),
    ],
)
def test_days_before_cutover_or_in_the_future_are_refused(day: date, allow_future: bool, reason: str | None) -> None:
    if reason is None:
        check_as_of(day, today=TODAY, ruleset=RULESET, allow_future=allow_future)
        return
    with pytest.raises(Invalid) as refused:
        check_as_of(day, today=TODAY, ruleset=RULESET, allow_future=allow_future)
    assert refused.value.reason == reason


async def test_the_handlers_record_every_applied_event_with_its_effective_day_and_skip_stale_ones() -> None:
    uow = FakeUnitOfWork(ruleset=RULESET)
    await handlers.on_tier_decided(tier_decided("C1", revision=1, tier=Tier.GOLD, effective_at=JAN), uow.typed())
    await handlers.on_tier_decided(tier_decided("C1", revision=1, tier=Tier.DIAMOND, effective_at=JAN), uow.typed())
    changed = RepresentativeChanged(
        event_id=uuid.uuid4().hex, occurred_at=datetime.now(UTC), correlation_id=uuid.uuid4().hex,
        customer_id="C1", revision=1, reason="test", effective_at=MAR,
        representative=RepresentativeContract(agent_id="A1", name="Alice", channel=Channel.AGENCY),
    )
    await handlers.on_representative_changed(changed, uow.typed())
    assert [(kind, revision, effective_on) for _, kind, revision, effective_on, _ in uow.history.rows] == [
        ("tier", 1, JAN), ("representative", 1, MAR)
    ]
    assert uow.history.rows[0][4]["tier"] == "gold"
    assert uow.history.rows[1][4]["representative"] == {"agent_id": "A1", "name": "Alice", "channel": "agency"}
