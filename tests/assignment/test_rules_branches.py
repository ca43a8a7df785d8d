"""rules.md sections 4 and 7 as sharpened by issue 17: one contribution measure, the customer's
branch, pools by branch (the branch's people first, then the channel's elsewhere), and a departure
acting on its date. Tables of cases straight from the text."""

from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from services.assignment.domain.assignment import (
    Agent,
    Basis,
    branch_first,
    choose_representative,
    choose_top_performer,
    contribution_of,
)
from services.assignment.domain.facts import Departure
from services.assignment.domain.records import departed, departure_announced, unknown_agent
from services.assignment.mapping import branch_of, departure_of, policy_shares
from shared.events.values import Standard
from tests.assignment.fakes import RULESET
from tests.builders.assignment import AGENCY, BANK, T0, agent, agent_departed, by_id, policy, pool, tier_decision

HERE, THERE, ELSEWHERE = "GD-SZ", "GD-GZ", "BJ-HD"


@pytest.mark.parametrize(
    ("standard", "points", "premium", "expected"),
    [
        (Standard.Y2015, "25000.00", "80000.00", "25000.00"),
        (Standard.LEGACY, "25000.00", "80000.00", "80000.00"),
        (Standard.LEGACY, "90000.00", "10000.00", "10000.00"),
    ],
    ids=["2015: the points", "legacy: the standard premium", "legacy: the premium even when the points are higher"],
)
def test_contribution_is_the_figure_under_the_customers_standard(
    standard: Standard, points: str, premium: str, expected: str
) -> None:
    assert contribution_of(points=Decimal(points), standard_premium=Decimal(premium), standard=standard) == Decimal(
        expected
    )


def test_a_legacy_customer_is_represented_by_the_person_on_the_top_standard_premium_policy() -> None:
    """Policy 1 has more 2015 points, policy 2 more legacy standard premium: the legacy measure wins."""
    event = tier_decision(
        "C1", revision=1, tier=None, policies=[("A", "60000"), ("B", "20000")], premiums=["20000", "60000"],
        standard=Standard.LEGACY,
    )
    choice = choose_representative(
        policies=policy_shares(event.policies, standard=event.standard), agents=by_id(agent("A"), agent("B")),
        contacts={}, load_by_agent={}, serving_channel=AGENCY, excluded=(), as_of=T0,
    )
    assert choice is not None and choice.agent_id == "B"


@dataclass(frozen=True)
class PoolCase:
    people: list[Agent]
    branch: str | None
    expected: str | None
    loads: dict[str, int] = field(default_factory=dict)
    excluded: frozenset[str] = frozenset()


POOLS = {
    "the branch's person though more loaded than one elsewhere": PoolCase(
        [pool("S1", branch=THERE), pool("S2", branch=HERE)], HERE, "S2", loads={"S1": 0, "S2": 9}
    ),
    "least loaded within the branch": PoolCase(
        [pool("S1", branch=HERE), pool("S2", branch=HERE)], HERE, "S2", loads={"S1": 3, "S2": 1}
    ),
    "equal load within the branch: the lowest agent id": PoolCase(
        [pool("S2", branch=HERE), pool("S1", branch=HERE)], HERE, "S1"
    ),
    "nobody in the branch: the channel's least loaded elsewhere": PoolCase(
        [pool("S1", branch=THERE), pool("S2", branch=ELSEWHERE)], HERE, "S2", loads={"S1": 5, "S2": 2}
    ),
    "the branch's only person departed: elsewhere": PoolCase(
        [pool("S1", branch=HERE, departed=True), pool("S2", branch=THERE)], HERE, "S2"
    ),
    "the branch's only person not eligible: elsewhere": PoolCase(
        [pool("S1", branch=HERE, eligible=False), pool("S2", branch=THERE)], HERE, "S2"
    ),
    "the branch's only person excluded (being replaced): elsewhere": PoolCase(
        [pool("S1", branch=HERE), pool("S2", branch=THERE)], HERE, "S2", excluded=frozenset({"S1"})
    ),
    "another channel's person in the branch never serves": PoolCase(
        [pool("S1", branch=HERE, channel=BANK), pool("S2", branch=THERE)], HERE, "S2"
    ),
    "a branch-less customer: the channel anywhere, least loaded": PoolCase(
        [pool("S1", branch=HERE), pool("S2", branch=THERE)], None, "S2", loads={"S1": 1}
    ),
    "not a pool role: nobody": PoolCase([agent("A1", branch=HERE)], HERE, None),
}


@pytest.mark.parametrize("case", POOLS.values(), ids=POOLS.keys())
def test_the_service_pool_takes_the_customers_branch_first(case: PoolCase) -> None:
    choice = choose_representative(
        policies=[], agents=by_id(*case.people), contacts={}, load_by_agent=case.loads, serving_channel=AGENCY,
        branch=case.branch, excluded=case.excluded, as_of=T0,
    )
    assert (choice.agent_id if choice else None) == case.expected
    if choice is not None:
        assert choice.basis is Basis.SERVICE_POOL


TOPS = {
    "a top performer of the branch first": PoolCase(
        [agent("T1", top=True, branch=THERE), agent("T2", top=True, branch=HERE)], HERE, "T2",
        loads={"T2": 4},
    ),
    "none in the branch: the channel's least loaded elsewhere": PoolCase(
        [agent("T1", top=True, branch=THERE), agent("T2", top=True, branch=ELSEWHERE)], HERE, "T1",
        loads={"T2": 4},
    ),
    "the branch's only top performer is the one disqualified: elsewhere": PoolCase(
        [agent("T1", top=True, branch=HERE), agent("T2", top=True, branch=THERE)], HERE, "T2",
        excluded=frozenset({"T1"}),
    ),
}


@pytest.mark.parametrize("case", TOPS.values(), ids=TOPS.keys())
def test_the_top_performers_take_the_customers_branch_first(case: PoolCase) -> None:
    choice = choose_top_performer(
        agents=by_id(*case.people), load_by_agent=case.loads, serving_channel=AGENCY, branch=case.branch,
        excluded=case.excluded,
    )
    assert (choice.agent_id if choice else None) == case.expected


def test_the_policies_come_before_any_pool_whatever_the_branch() -> None:
    choice = choose_representative(
        policies=[policy("P1", "A", "100")], agents=by_id(agent("A", branch=THERE), pool("S", branch=HERE)),
        contacts={}, load_by_agent={}, serving_channel=AGENCY, branch=HERE, excluded=(), as_of=T0,
    )
    assert choice is not None and (choice.agent_id, choice.basis) == ("A", Basis.POLICY)


def test_branch_first_ignores_the_order_of_the_people() -> None:
    people = [pool("S3", branch=THERE), pool("S2", branch=HERE), pool("S1", branch=HERE)]
    picks = {
        chosen.agent_id
        for order in (people, people[::-1], people[1:] + people[:1])
        if (chosen := branch_first(order, branch=HERE, load_by_agent={"S1": 2}, excluded=()))
    }
    assert picks == {"S2"}


BRANCHES = {
    "tiering's branch when the decision carries one": (dict(branch="CRM-1", policy_branches=[THERE, HERE]), "CRM-1"),
    "else the highest-contribution counting policy's": (dict(policy_branches=[THERE, HERE]), HERE),
    "no policy and no branch: unknown": (dict(policies=[]), None),
}


@pytest.mark.parametrize(("overrides", "expected"), BRANCHES.values(), ids=BRANCHES.keys())
def test_the_customers_branch(overrides: dict[str, object], expected: str | None) -> None:
    values: dict[str, object] = {"policies": [("A", "100"), ("B", "300")], **overrides}
    assert branch_of(tier_decision("C1", revision=1, tier=None, **values)) == expected  # type: ignore[arg-type]


def test_the_fallback_branch_follows_the_legacy_measure_for_a_legacy_customer() -> None:
    event = tier_decision(
        "C1", revision=1, tier=None, policies=[("A", "60000"), ("B", "20000")], premiums=["20000", "60000"],
        policy_branches=[THERE, HERE], standard=Standard.LEGACY,
    )
    assert branch_of(event) == HERE


SHANGHAI_EVENING = datetime(2026, 10, 8, 17, 0, tzinfo=UTC)  # 2026-10-09 01:00 in Asia/Shanghai
DEPARTURES = {
    "dated the day before: acts now": (date(2026, 10, 7), True),
    "dated the event's local date: acts now": (date(2026, 10, 9), True),
    "dated the UTC date, which is the local day before: acts now": (date(2026, 10, 8), True),
    "dated the day after the local date: waits": (date(2026, 10, 10), False),
}


@pytest.mark.parametrize(("departed_on", "acts_now"), DEPARTURES.values(), ids=DEPARTURES.keys())
def test_a_departure_acts_on_receipt_only_when_dated_today_or_earlier_in_the_insurers_zone(
    departed_on: date, acts_now: bool
) -> None:
    event = agent_departed("A", at=SHANGHAI_EVENING, departed_on=departed_on)
    assert departure_of(event, zone=RULESET.zone).acts_now is acts_now


def test_a_departure_announced_ahead_keeps_the_person_active_until_it_acts() -> None:
    ahead = Departure(agent_id="A", departed_on=date(2026, 10, 20), at=T0, announced_on=date(2026, 3, 1))
    announced = departure_announced(unknown_agent("A"), ahead)
    assert announced is not None and announced.departs_on == date(2026, 10, 20) and announced.departed_at is None
    assert departure_announced(announced, ahead) is None  # the same date again changes nothing
    later = departure_announced(announced, Departure(agent_id="A", departed_on=date(2026, 11, 1), at=T0,
                                                      announced_on=date(2026, 3, 2)))
    assert later is not None and later.departs_on == date(2026, 11, 1)
    gone = departed(announced, ahead)
    assert gone is not None and gone.departs_on is None and gone.departed_on == date(2026, 10, 20)
    assert departure_announced(gone, ahead) is None

