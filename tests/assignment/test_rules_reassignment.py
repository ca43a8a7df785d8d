"""rules.md section 7, changes to an existing assignment: departure, disqualification (top
performers), loss of VIP status (no churn), several vacancies at once, and late facts."""

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta

import pytest

from services.assignment.domain.assignment import (
    Agent,
    Basis,
    Choice,
    PolicyShare,
    choose_representative,
    choose_top_performer,
)
from services.assignment.domain.reassignment import (
    TierStep,
    Vacancy,
    fill_vacancies,
    reassign_after_departure,
    replace_disqualified,
    revise_for_late_fact,
    step_for_tier,
)
from tests.builders.assignment import AGENCY, BANK, EMPTY, EMPTY_AGENTS, T0, agent, by_id, policy, pool

# --- departure -------------------------------------------------------------------------------------


def test_departure_reassigns_to_the_next_policy_person() -> None:
    choice = reassign_after_departure(
        departed_agent_id="A",
        policies=[policy("P1", "A", "300"), policy("P2", "B", "200")],
        agents=by_id(agent("A"), agent("B"), pool("S1")),
        contacts={},
        load_by_agent=EMPTY,
        serving_channel=AGENCY,
        as_of=T0,
    )
    assert choice is not None
    assert (choice.agent_id, choice.basis) == ("B", Basis.POLICY)


def test_departure_falls_back_to_the_pool_when_no_other_policy_person() -> None:
    choice = reassign_after_departure(
        departed_agent_id="A",
        policies=[policy("P1", "A", "300"), policy("P2", "A", "200")],
        agents=by_id(agent("A"), pool("S1"), pool("S2")),
        contacts={},
        load_by_agent={"S1": 3, "S2": 2},
        serving_channel=AGENCY,
        as_of=T0,
    )
    assert choice is not None
    assert (choice.agent_id, choice.basis) == ("S2", Basis.SERVICE_POOL)


def test_departure_with_nobody_left_gives_no_representative() -> None:
    assert (
        reassign_after_departure(
            departed_agent_id="A",
            policies=[policy("P1", "A", "300")],
            agents=by_id(agent("A")),
            contacts={},
            load_by_agent=EMPTY,
            serving_channel=AGENCY,
            as_of=T0,
        )
        is None
    )


# --- disqualification ------------------------------------------------------------------------------


def test_top_performers_least_loaded_take_over() -> None:
    choice = replace_disqualified(
        disqualified_agent_id="A",
        policies=[policy("P1", "A", "300"), policy("P2", "B", "200")],
        agents=by_id(
            agent("A", disqualified=True),
            agent("B"),
            agent("T1", top=True),
            agent("T2", top=True),
            agent("T3", top=True, channel=BANK),
        ),
        contacts={},
        load_by_agent={"T1": 4, "T2": 2, "T3": 0},
        serving_channel=AGENCY,
        as_of=T0,
    )
    assert choice is not None
    assert (choice.agent_id, choice.basis) == ("T2", Basis.TOP_PERFORMER_POOL)


@pytest.mark.parametrize(
    ("top", "expected"),
    [
        (agent("T1", top=True, departed=True), "T2"),
        (agent("T1", top=True, disqualified=True), "T2"),
        (agent("T1", top=True, eligible=False), "T2"),
        (agent("T1", top=True), "T1"),
    ],
    ids=["departed", "disqualified", "ineligible", "assignable"],
)
def test_top_performers_must_be_assignable(top: Agent, expected: str) -> None:
    choice = choose_top_performer(
        agents=by_id(top, agent("T2", top=True)),
        load_by_agent={"T1": 0, "T2": 7},
        serving_channel=AGENCY,
        excluded=(),
    )
    assert choice is not None
    assert choice.agent_id == expected


def test_top_performers_with_equal_load_go_to_the_lowest_agent_id() -> None:
    choice = choose_top_performer(
        agents=by_id(agent("T9", top=True), agent("T3", top=True)),
        load_by_agent=EMPTY,
        serving_channel=AGENCY,
        excluded=(),
    )
    assert choice is not None
    assert choice.agent_id == "T3"


def test_without_top_performers_the_regular_rule_replaces_the_disqualified() -> None:
    choice = replace_disqualified(
        disqualified_agent_id="A",
        policies=[policy("P1", "A", "300"), policy("P2", "B", "200")],
        agents=by_id(agent("A"), agent("B"), agent("T", top=True, channel=BANK)),
        contacts={},
        load_by_agent=EMPTY,
        serving_channel=AGENCY,
        as_of=T0,
    )
    assert choice is not None
    assert (choice.agent_id, choice.basis) == ("B", Basis.POLICY)


def test_a_disqualified_person_is_never_assigned_again() -> None:
    disqualified = agent("A", top=True, disqualified=True)
    policies = [policy("P1", "A", "300")]
    agents = by_id(disqualified, pool("S1"))
    regular = choose_representative(
        policies=policies,
        agents=agents,
        contacts={"A": T0},
        load_by_agent={"S1": 100},
        serving_channel=AGENCY,
        excluded=(),
        as_of=T0,
    )
    top = choose_top_performer(agents=agents, load_by_agent=EMPTY, serving_channel=AGENCY, excluded=())
    assert regular is not None
    assert regular.agent_id == "S1"
    assert top is None


# --- tier decisions: no churn, end on loss of VIP ---------------------------------------------------


@pytest.mark.parametrize(
    ("is_vip", "represented", "expected"),
    [
        (True, False, TierStep.FILL),
        (True, True, TierStep.KEEP),
        (False, True, TierStep.END),
        (False, False, TierStep.NOTHING),
    ],
    ids=["becomes VIP", "no churn", "loses VIP", "never VIP"],
)
def test_step_for_tier(is_vip: bool, represented: bool, expected: TierStep) -> None:
    assert step_for_tier(is_vip=is_vip, represented=represented) is expected


# --- several customers at once ---------------------------------------------------------------------


def vacancy(customer_id: str, *, top_first: bool = False) -> Vacancy:
    return Vacancy(
        customer_id=customer_id,
        policies=(policy(f"P-{customer_id}", "GONE", "300"),),
        contacts={},
        serving_channel=AGENCY,
        top_performers_first=top_first,
    )


def test_filling_several_vacancies_spreads_them_over_the_pool() -> None:
    filled = fill_vacancies(
        vacancies=[vacancy("C3"), vacancy("C1"), vacancy("C2"), vacancy("C4")],
        agents=by_id(agent("GONE", departed=True), pool("S1"), pool("S2")),
        load_by_agent={"S1": 1},
        excluded={"GONE"},
        as_of=T0,
    )
    assert [(customer, choice.agent_id if choice else None) for customer, choice in filled] == [
        ("C1", "S2"),
        ("C2", "S1"),
        ("C3", "S2"),
        ("C4", "S1"),
    ]


def test_filling_after_disqualification_uses_top_performers_then_the_regular_rule() -> None:
    filled = fill_vacancies(
        vacancies=[vacancy("C1", top_first=True), vacancy("C2", top_first=False)],
        agents=by_id(agent("GONE", disqualified=True), agent("T1", top=True), pool("S1")),
        load_by_agent=EMPTY,
        excluded={"GONE"},
        as_of=T0,
    )
    assert [(customer, choice.basis if choice else None) for customer, choice in filled] == [
        ("C1", Basis.TOP_PERFORMER_POOL),
        ("C2", Basis.SERVICE_POOL),
    ]


def test_a_vacancy_nobody_can_fill_stays_open() -> None:
    filled = fill_vacancies(vacancies=[vacancy("C1")], agents=EMPTY_AGENTS, load_by_agent=EMPTY, excluded=(), as_of=T0)
    assert filled == (("C1", None),)


# --- late facts: order independence ----------------------------------------------------------------


def incumbent(agent_id: str, revisable_by: set[str]) -> Choice:
    return Choice(agent_id=agent_id, basis=Basis.POLICY, reason="", revisable_by=frozenset(revisable_by))


def revise(
    current: Choice,
    late: str,
    *,
    policies: Sequence[PolicyShare],
    agents: Sequence[Agent],
    contacts: Mapping[str, datetime] | None = None,
) -> str | None:
    choice = revise_for_late_fact(
        incumbent=current,
        late_agent_id=late,
        decided_at=T0,
        policies=policies,
        agents=by_id(*agents),
        contacts=contacts or {},
        load_by_agent=EMPTY,
        serving_channel=AGENCY,
    )
    return None if choice is None else choice.agent_id


def test_a_late_profile_of_the_higher_policy_person_moves_the_customer_to_them() -> None:
    policies = [policy("P1", "X", "300"), policy("P2", "B", "200")]
    assert revise(incumbent("B", {"X"}), "X", policies=policies, agents=[agent("X"), agent("B")]) == "X"


def test_a_late_profile_from_the_pool_case_moves_the_customer_to_the_policy_person() -> None:
    current = Choice(agent_id="S1", basis=Basis.SERVICE_POOL, reason="", revisable_by=frozenset({"X"}))
    assert revise(current, "X", policies=[policy("P1", "X", "1")], agents=[agent("X"), pool("S1")]) == "X"


def test_a_late_profile_of_an_ineligible_person_keeps_the_incumbent() -> None:
    policies = [policy("P1", "X", "300"), policy("P2", "B", "200")]
    assert (
        revise(incumbent("B", {"X"}), "X", policies=policies, agents=[agent("X", eligible=False), agent("B")]) is None
    )


def test_news_about_someone_who_could_not_have_changed_the_choice_keeps_the_incumbent() -> None:
    policies = [policy("P1", "X", "300"), policy("P2", "B", "500")]
    assert revise(incumbent("B", set()), "X", policies=policies, agents=[agent("X"), agent("B")]) is None


def test_contributions_that_shifted_since_do_not_churn_on_a_late_profile() -> None:
    """X ranked above B when B was chosen; X's policy has shrunk below B's since."""
    policies = [policy("P1", "X", "100"), policy("P2", "B", "200")]
    assert revise(incumbent("B", {"X"}), "X", policies=policies, agents=[agent("X"), agent("B")]) is None


def test_a_late_contact_before_the_decision_settles_the_tie() -> None:
    policies = [policy("P1", "A", "300"), policy("P2", "B", "300")]
    contacts = {"A": T0 - timedelta(days=3), "B": T0 - timedelta(days=1)}
    assert (
        revise(incumbent("A", {"B"}), "B", policies=policies, agents=[agent("A"), agent("B")], contacts=contacts) == "B"
    )


def test_a_late_contact_older_than_the_incumbents_keeps_the_incumbent() -> None:
    policies = [policy("P1", "A", "300"), policy("P2", "B", "300")]
    contacts = {"A": T0 - timedelta(days=1), "B": T0 - timedelta(days=3)}
    assert (
        revise(incumbent("A", {"B"}), "B", policies=policies, agents=[agent("A"), agent("B")], contacts=contacts)
        is None
    )


def test_a_contact_after_the_decision_is_news_and_never_churns() -> None:
    policies = [policy("P1", "A", "300"), policy("P2", "B", "300")]
    contacts = {"B": T0 + timedelta(minutes=1)}
    assert (
        revise(incumbent("A", {"B"}), "B", policies=policies, agents=[agent("A"), agent("B")], contacts=contacts)
        is None
    )


def test_the_incumbent_counts_as_eligible_when_the_decision_is_taken_again() -> None:
    """A became ineligible after being chosen; B's late contact is older than A's: A stays."""
    policies = [policy("P1", "A", "300"), policy("P2", "B", "300")]
    contacts = {"A": T0 - timedelta(days=1), "B": T0 - timedelta(days=3)}
    agents = [agent("A", eligible=False), agent("B")]
    assert revise(incumbent("A", {"B"}), "B", policies=policies, agents=agents, contacts=contacts) is None
