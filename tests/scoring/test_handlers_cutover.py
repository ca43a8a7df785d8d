"""Legacy standing from history (issue 17 point 3, scoring's side) against the in-memory unit of work:
every `CustomerScored` carries the legacy standard premium of the customer's policies as they stood on
the day before cutover (2015-07-31 under the shipped ruleset), whatever order the events arrive in.
"""

from datetime import date
from decimal import Decimal
from itertools import permutations
from typing import Any

import pytest

from services.scoring.handlers import on_policy_changed
from shared.events.inbound import POLICY_EVENT_ADAPTER, PolicyChanged
from shared.events.internal import CustomerScored
from shared.ruleset import load_ruleset
from shared.settings import DEFAULT_RULESET_PATH
from tests.builders.policies import policy_event
from tests.scoring.fakes import FakeUnitOfWork

RULESET = load_ruleset(DEFAULT_RULESET_PATH)
LEGACY = {"issued_on": "2015-07-01", "cooling_off_ends_on": None, "product_type": "traditional",
          "payment_term_years": 10, "modal_premium": "25000.00"}
"""The issue's policy: 10-year traditional, 25,000 a year, issued 2015-07-01 (cooling-off to 07-16)."""


def event(**fields: Any) -> PolicyChanged:
    return POLICY_EVENT_ADAPTER.validate_python(policy_event(**fields))


async def handle(uow: FakeUnitOfWork, *events: PolicyChanged) -> list[CustomerScored]:
    published: list[CustomerScored] = []
    for item in events:
        events_out = [*await on_policy_changed(item, uow.as_unit_of_work()), *await uow.finish_batch()]
        published.extend(scored for scored in events_out if isinstance(scored, CustomerScored))
        uow.commit()
    return published


def bought_2015(**changes: Any) -> PolicyChanged:
    defaults = {"policy_no": "P2015", "holder_id": "C1", "occurred_at": "2015-07-01T10:00:00+08:00"}
    return event(**defaults | LEGACY | changes)


def event_2016() -> PolicyChanged:
    return event(policy_no="P2016", holder_id="C1", occurred_at="2016-03-01T10:00:00+08:00",
                 issued_on="2016-02-01", cooling_off_ends_on="2016-02-16", modal_premium="5000.00")


@pytest.mark.parametrize("order", ["2015 first", "2016 first"])
async def test_the_pre_cutover_policy_counts_in_either_arrival_order(order: str) -> None:
    uow = FakeUnitOfWork(ruleset=RULESET)
    events = [bought_2015(), event_2016()]

    published = await handle(uow, *(events if order == "2015 first" else reversed(events)))

    latest = published[-1]
    assert latest.legacy_standard_premium_before_cutover == Decimal("25000.00")
    assert latest.standard_premium == Decimal("30000.00")  # both policies, counted today
    if order == "2016 first":
        assert published[0].legacy_standard_premium_before_cutover is None  # held nothing before cutover
        assert latest.as_of == date(2016, 3, 1)  # the current score's date still never goes back


async def test_a_customer_who_held_nothing_before_cutover_has_no_legacy_figure() -> None:
    uow = FakeUnitOfWork(ruleset=RULESET)

    [scored] = await handle(uow, event_2016())

    assert scored.legacy_standard_premium_before_cutover is None


@pytest.mark.parametrize("order", list(permutations(range(3))), ids=lambda order: "".join(map(str, order)))
async def test_the_version_in_force_on_the_day_before_cutover_wins_whatever_the_order(order: tuple[int, ...]) -> None:
    uow = FakeUnitOfWork(ruleset=RULESET)
    versions = [
        bought_2015(),
        bought_2015(version=2, event_type="partial_surrender", modal_premium="21000.00",
                    occurred_at="2015-07-31T23:30:00+08:00"),
        bought_2015(version=3, event_type="surrender", status="surrendered",
                    occurred_at="2015-08-01T00:10:00+08:00"),  # 2015-07-31 in UTC, cutover day in Shanghai
    ]

    published = await handle(uow, *(versions[index] for index in order))

    assert published[-1].legacy_standard_premium_before_cutover == Decimal("21000.00")
    assert published[-1].standard_premium == Decimal("0.00")
    assert uow.policies.stored["P2015"].version == 3


async def test_a_stale_event_that_is_the_pre_cutover_version_rescores_and_is_still_recorded_as_stale() -> None:
    uow = FakeUnitOfWork(ruleset=RULESET)
    surrendered = bought_2015(version=2, event_type="surrender", status="surrendered",
                              occurred_at="2016-01-10T10:00:00+08:00")
    [first] = await handle(uow, surrendered)

    [late] = await handle(uow, bought_2015())

    assert first.legacy_standard_premium_before_cutover is None
    assert (late.revision, late.legacy_standard_premium_before_cutover, late.standard_premium) == (
        2, Decimal("25000.00"), Decimal("0.00")
    )
    assert late.as_of == date(2016, 1, 10)
    assert uow.stale_events == 1 and uow.policies.stored["P2015"].version == 2


async def test_a_stale_event_older_than_the_kept_pre_cutover_version_publishes_nothing() -> None:
    uow = FakeUnitOfWork(ruleset=RULESET)
    await handle(uow, bought_2015(version=2, event_type="additional_premium", modal_premium="30000.00",
                                  occurred_at="2015-07-20T10:00:00+08:00"))

    assert await handle(uow, bought_2015()) == []
    assert uow.stale_events == 1


async def test_a_policyholder_change_before_cutover_moves_the_legacy_figure_to_the_new_holder() -> None:
    uow = FakeUnitOfWork(ruleset=RULESET)
    change = bought_2015(version=2, event_type="policyholder_change", holder_id="C2", previous_holder_id="C1",
                         occurred_at="2015-07-10T10:00:00+08:00")

    published = await handle(uow, bought_2015(), change)

    by_customer = {scored.customer_id: scored for scored in published[1:]}
    assert by_customer["C2"].legacy_standard_premium_before_cutover == Decimal("25000.00")
    assert by_customer["C1"].legacy_standard_premium_before_cutover is None


async def test_a_policy_still_in_cooling_off_on_the_day_before_cutover_gives_nothing_then() -> None:
    uow = FakeUnitOfWork(ruleset=RULESET)

    [scored] = await handle(uow, bought_2015(issued_on="2015-07-16", occurred_at="2015-07-16T10:00:00+08:00"))

    assert scored.legacy_standard_premium_before_cutover == Decimal("0.00")
