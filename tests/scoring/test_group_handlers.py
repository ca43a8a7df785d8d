"""Scoring's group handlers against the in-memory unit of work (`fakes.py`): a client's book from its
group policies, its profile and experience, and experience for a client not yet known kept until it is."""

from decimal import Decimal
from typing import Any

from services.scoring.handlers import on_group_client_upserted, on_group_experience_reported, on_policy_changed
from shared.db import Publishable
from shared.events.group import GroupClientScored
from shared.events.inbound import CUSTOMER_EVENT_ADAPTER, POLICY_EVENT_ADAPTER, GroupClientUpserted
from shared.events.internal import CustomerScored
from shared.ruleset import load_ruleset
from shared.settings import DEFAULT_RULESET_PATH
from tests.builders.group_clients import group_client_upserted, group_experience_reported, group_policy_event
from tests.builders.policies import policy_event
from tests.scoring.fakes import FakeUnitOfWork

RULESET = load_ruleset(DEFAULT_RULESET_PATH)


async def handle(uow: FakeUnitOfWork, *messages: dict[str, Any]) -> list[Publishable]:
    published: list[Publishable] = []
    for message in messages:
        unit = uow.as_unit_of_work()
        if "policy" in message:
            published.extend(await on_policy_changed(POLICY_EVENT_ADAPTER.validate_python(message), unit))
        else:
            event = CUSTOMER_EVENT_ADAPTER.validate_python(message)
            handler: Any = on_group_client_upserted
            if not isinstance(event, GroupClientUpserted):
                handler = on_group_experience_reported
            published.extend(await handler(event, unit))
        uow.commit()
    return published


def group_scores(published: list[Publishable]) -> list[GroupClientScored]:
    return [event for event in published if isinstance(event, GroupClientScored)]


async def test_group_policies_make_the_clients_book_with_a_rising_revision() -> None:
    uow = FakeUnitOfWork(ruleset=RULESET)
    published = await handle(
        uow,
        group_policy_event(policy_no="G1", client_id="K1"),
        group_policy_event(policy_no="G2", client_id="K1", payment_term_years=3),
    )
    first, second = group_scores(published)
    assert (first.client_id, first.revision, first.annual_standard_premium) == ("K1", 1, Decimal("100000.00"))
    assert (second.revision, second.annual_standard_premium, second.in_force_policies) == (
        2, Decimal("160000.00"), 2
    )
    assert second.profile is None and second.topic == "vip.group-clients.v1" and second.key == "K1"


async def test_a_lapsed_group_policy_leaves_the_book_at_once() -> None:
    uow = FakeUnitOfWork(ruleset=RULESET)
    published = await handle(
        uow,
        group_policy_event(policy_no="G1", client_id="K1"),
        group_policy_event(policy_no="G1", client_id="K1", version=2, event_type="lapse", status="lapsed"),
    )
    assert [(s.in_force_policies, s.annual_standard_premium) for s in group_scores(published)] == [
        (1, Decimal("100000.00")), (0, Decimal("0.00"))
    ]


async def test_experience_for_an_unknown_client_is_kept_until_the_client_appears() -> None:
    uow = FakeUnitOfWork(ruleset=RULESET)
    early = await handle(uow, group_experience_reported(client_id="K9", earned_premium="50000.00"))
    assert early == [], "nothing is published for a client nobody described yet"

    [scored] = group_scores(await handle(uow, group_client_upserted(client_id="K9", branch="GD-GZ")))
    assert scored.profile is not None and scored.profile.branch == "GD-GZ"
    assert [period.earned_premium for period in scored.experience] == [Decimal("50000.00")]
    assert scored.in_force_policies == 0


async def test_a_later_report_of_the_same_period_replaces_it_and_periods_come_newest_first() -> None:
    uow = FakeUnitOfWork(ruleset=RULESET)
    published = await handle(
        uow,
        group_client_upserted(client_id="K1"),
        group_experience_reported(client_id="K1", period_start="2026-04-01", period_end="2026-06-30"),
        group_experience_reported(client_id="K1", incurred_claims="10.00"),
        group_experience_reported(client_id="K1", incurred_claims="20.00"),
    )
    last = group_scores(published)[-1]
    assert [(p.period_end.isoformat(), p.incurred_claims) for p in last.experience] == [
        ("2026-09-30", Decimal("20.00")), ("2026-06-30", Decimal("30000.00"))
    ]


async def test_a_group_policy_never_changes_an_individual_customers_points() -> None:
    uow = FakeUnitOfWork(ruleset=RULESET)
    before = await handle(uow, policy_event(policy_no="P1", holder_id="C1"))
    after = await handle(uow, group_policy_event(policy_no="G1", client_id="C1"))
    [individual_before] = [e for e in before if isinstance(e, CustomerScored)]
    [individual_after] = [e for e in after if isinstance(e, CustomerScored)]
    assert individual_after.points == individual_before.points == Decimal("36000.00")
    assert individual_after.standard_premium == individual_before.standard_premium
    assert group_scores(after)[0].annual_standard_premium == Decimal("100000.00")
