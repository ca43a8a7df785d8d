"""rules.md section 7, the dedicated service representative: one case per rule and tie-break."""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from types import MappingProxyType

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.assignment.domain import (
    Agent,
    Basis,
    Choice,
    PolicyShare,
    choose_representative,
    choose_top_performer,
    policy_shares,
)
from services.assignment.reassignment import (
    TierStep,
    Vacancy,
    fill_vacancies,
    reassign_after_departure,
    replace_disqualified,
    revise_for_late_fact,
    step_for_tier,
)
from shared.events.internal import PolicyContribution
from shared.events.values import AgentRole, Channel, Standard

AGENCY = Channel.AGENCY
BANK = Channel.BANCASSURANCE
T0 = datetime(2026, 3, 1, 10, 0, tzinfo=UTC)
EMPTY: Mapping[str, int] = MappingProxyType({})
EMPTY_AGENTS: Mapping[str, Agent] = MappingProxyType({})


def agent(
    agent_id: str,
    *,
    channel: Channel = AGENCY,
    role: AgentRole = AgentRole.AGENT,
    top: bool = False,
    eligible: bool = True,
    departed: bool = False,
    disqualified: bool = False,
) -> Agent:
    return Agent(
        agent_id=agent_id,
        name=f"name of {agent_id}",
        channel=channel,
        branch="GD-SZ",
        role=role,
        top_performer=top,
        eligible=eligible,
        departed=departed,
        disqualified=disqualified,
    )


def pool(agent_id: str, **kwargs: object) -> Agent:
    return agent(agent_id, role=AgentRole.CS_SPECIALIST, **kwargs)  # type: ignore[arg-type]


def policy(policy_no: str, agent_id: str | None, contribution: str, *, counted: bool = True) -> PolicyShare:
    return PolicyShare(policy_no=policy_no, agent_id=agent_id, contribution=Decimal(contribution), counted=counted)


def by_id(*agents: Agent) -> dict[str, Agent]:
    return {each.agent_id: each for each in agents}


@dataclass(frozen=True)
class Case:
    policies: Sequence[PolicyShare]
    agents: Sequence[Agent]
    expected: str | None
    basis: Basis | None = None
    contacts: Mapping[str, datetime] = field(default_factory=dict)
    loads: Mapping[str, int] = field(default_factory=dict)
    excluded: frozenset[str] = frozenset()
    serving_channel: Channel | None = AGENCY


REGULAR_RULE = {
    "the person on the highest-contributing counting policy": Case(
        [policy("P1", "A", "100"), policy("P2", "B", "300"), policy("P3", "C", "200")],
        [agent("A"), agent("B"), agent("C")],
        "B",
        Basis.POLICY,
    ),
    "a departed person is skipped: the next policy's person": Case(
        [policy("P1", "A", "300"), policy("P2", "B", "200")],
        [agent("A", departed=True), agent("B")],
        "B",
        Basis.POLICY,
    ),
    "a disqualified person is skipped: the next policy's person": Case(
        [policy("P1", "A", "300"), policy("P2", "B", "200")],
        [agent("A", disqualified=True), agent("B")],
        "B",
        Basis.POLICY,
    ),
    "a person failing the basic requirements is not eligible for new assignments": Case(
        [policy("P1", "A", "300"), policy("P2", "B", "200")],
        [agent("A", eligible=False), agent("B")],
        "B",
        Basis.POLICY,
    ),
    "a person whose profile has not arrived is not known to be active": Case(
        [policy("P1", "A", "300"), policy("P2", "B", "200")], [agent("B")], "B", Basis.POLICY
    ),
    "a policy without a service person is skipped": Case(
        [policy("P1", None, "300"), policy("P2", "B", "200")], [agent("B")], "B", Basis.POLICY
    ),
    "only counting policies: a pending or excluded policy is ignored however large": Case(
        [policy("P1", "A", "900", counted=False), policy("P2", "B", "200")],
        [agent("A"), agent("B")],
        "B",
        Basis.POLICY,
    ),
    "an excluded person (the one being replaced) is skipped": Case(
        [policy("P1", "A", "300"), policy("P2", "B", "200")],
        [agent("A"), agent("B")],
        "B",
        Basis.POLICY,
        excluded=frozenset({"A"}),
    ),
    "the person's channel does not matter on the policy path": Case(
        [policy("P1", "A", "300")], [agent("A", channel=BANK)], "A", Basis.POLICY
    ),
    "equal contribution, different persons: the most recent contact wins": Case(
        [policy("P1", "A", "300"), policy("P2", "B", "300")],
        [agent("A"), agent("B")],
        "B",
        Basis.RECENT_CONTACT,
        contacts={"A": T0 - timedelta(days=5), "B": T0 - timedelta(days=1)},
    ),
    "equal contribution: a contact after the decision does not exist yet": Case(
        [policy("P1", "A", "300"), policy("P2", "B", "300")],
        [agent("A"), agent("B")],
        "A",
        Basis.RECENT_CONTACT,
        contacts={"A": T0 - timedelta(days=5), "B": T0 + timedelta(seconds=1)},
    ),
    "equal contribution, nobody contacted: the lowest agent id": Case(
        [policy("P1", "B", "300"), policy("P2", "A", "300")],
        [agent("A"), agent("B")],
        "A",
        Basis.RECENT_CONTACT,
    ),
    "equal contribution, contacts at the same instant: the lowest agent id": Case(
        [policy("P1", "B", "300"), policy("P2", "A", "300")],
        [agent("A"), agent("B")],
        "A",
        Basis.RECENT_CONTACT,
        contacts={"A": T0, "B": T0},
    ),
    "equal contribution, one contacted: the contacted one": Case(
        [policy("P1", "A", "300"), policy("P2", "B", "300")],
        [agent("A"), agent("B")],
        "B",
        Basis.RECENT_CONTACT,
        contacts={"B": T0 - timedelta(days=300)},
    ),
    "equal contribution, the same person on both: no tie": Case(
        [policy("P1", "A", "300"), policy("P2", "A", "300"), policy("P3", "B", "100")],
        [agent("A"), agent("B")],
        "A",
        Basis.POLICY,
        contacts={"B": T0},
    ),
    "equal contribution, the recent contact is inactive: the other, no tie": Case(
        [policy("P1", "A", "300"), policy("P2", "B", "300")],
        [agent("A"), agent("B", departed=True)],
        "A",
        Basis.POLICY,
        contacts={"B": T0},
    ),
    "a contact by someone outside the tie does not count": Case(
        [policy("P1", "B", "300"), policy("P2", "A", "300"), policy("P3", "C", "100")],
        [agent("A"), agent("B"), agent("C")],
        "A",
        Basis.RECENT_CONTACT,
        contacts={"C": T0},
    ),
    "a lower contribution never ties with a higher one, however recent its contact": Case(
        [policy("P1", "A", "300.01"), policy("P2", "B", "300.00")],
        [agent("A"), agent("B")],
        "A",
        Basis.POLICY,
        contacts={"B": T0},
    ),
    "nobody on the policies: the serving channel's service pool, least loaded": Case(
        [policy("P1", "A", "300")],
        [agent("A", departed=True), pool("S1"), pool("S2"), pool("S3")],
        "S2",
        Basis.SERVICE_POOL,
        loads={"S1": 5, "S2": 1, "S3": 3},
    ),
    "the pool: renewal staff and back office take part": Case(
        [],
        [
            pool("S1"),
            agent("R1", role=AgentRole.RENEWAL_STAFF),
            agent("B1", role=AgentRole.BACK_OFFICE),
        ],
        "B1",
        Basis.SERVICE_POOL,
        loads={"S1": 2, "R1": 1, "B1": 0},
    ),
    "the pool: renewal staff least loaded": Case(
        [],
        [pool("S1"), agent("R1", role=AgentRole.RENEWAL_STAFF), agent("B1", role=AgentRole.BACK_OFFICE)],
        "R1",
        Basis.SERVICE_POOL,
        loads={"S1": 2, "R1": 0, "B1": 1},
    ),
    "the pool: an agent (sales role) is not in the pool": Case(
        [], [agent("A0"), pool("S1")], "S1", Basis.SERVICE_POOL, loads={"S1": 9}
    ),
    "the pool: another channel's staff are not in the serving channel's pool": Case(
        [], [pool("S1", channel=BANK), pool("S2")], "S2", Basis.SERVICE_POOL, loads={"S2": 9}
    ),
    "the pool: the serving channel decides, not the policies' channel": Case(
        [], [pool("S1"), pool("S2", channel=BANK)], "S2", Basis.SERVICE_POOL, serving_channel=BANK
    ),
    "the pool: inactive or ineligible staff are skipped": Case(
        [],
        [pool("S1", departed=True), pool("S2", disqualified=True), pool("S3", eligible=False), pool("S4")],
        "S4",
        Basis.SERVICE_POOL,
        loads={"S4": 50},
    ),
    "the pool: equal loads go to the lowest agent id": Case(
        [], [pool("S9"), pool("S2"), pool("S5")], "S2", Basis.SERVICE_POOL, loads={"S9": 1, "S2": 1, "S5": 1}
    ),
    "the pool: no load recorded counts as zero": Case(
        [], [pool("S1"), pool("S2")], "S2", Basis.SERVICE_POOL, loads={"S1": 1}
    ),
    "nobody anywhere: no representative": Case(
        [policy("P1", "A", "300")], [agent("A", eligible=False), pool("S1", channel=BANK)], None
    ),
    "no serving channel and nobody on the policies: no representative": Case(
        [], [pool("S1")], None, serving_channel=None
    ),
}


@pytest.mark.parametrize("case", REGULAR_RULE.values(), ids=REGULAR_RULE.keys())
def test_regular_rule(case: Case) -> None:
    choice = choose_representative(
        policies=case.policies,
        agents=by_id(*case.agents),
        contacts=case.contacts,
        load_by_agent=case.loads,
        serving_channel=case.serving_channel,
        excluded=case.excluded,
        as_of=T0,
    )
    if case.expected is None:
        assert choice is None
        return
    assert choice is not None
    assert (choice.agent_id, choice.basis) == (case.expected, case.basis)
    assert choice.reason


def test_a_person_whose_profile_is_missing_above_the_choice_may_revise_it() -> None:
    choice = choose_representative(
        policies=[policy("P1", "X", "300"), policy("P2", "B", "200"), policy("P3", "Y", "100")],
        agents=by_id(agent("B")),
        contacts={},
        load_by_agent=EMPTY,
        serving_channel=AGENCY,
        excluded=(),
        as_of=T0,
    )
    assert choice is not None
    assert (choice.agent_id, choice.revisable_by) == ("B", frozenset({"X"}))


def test_the_other_persons_of_a_tie_may_revise_it() -> None:
    choice = choose_representative(
        policies=[policy("P1", "A", "300"), policy("P2", "B", "300"), policy("P3", "C", "300")],
        agents=by_id(agent("A"), agent("B"), agent("C")),
        contacts={"C": T0},
        load_by_agent=EMPTY,
        serving_channel=AGENCY,
        excluded=(),
        as_of=T0,
    )
    assert choice is not None
    assert (choice.agent_id, choice.revisable_by) == ("C", frozenset({"A", "B"}))


def test_a_pool_choice_may_be_revised_by_any_unknown_service_person() -> None:
    choice = choose_representative(
        policies=[policy("P1", "X", "300"), policy("P2", "Y", "1", counted=False)],
        agents=by_id(pool("S1")),
        contacts={},
        load_by_agent=EMPTY,
        serving_channel=AGENCY,
        excluded=(),
        as_of=T0,
    )
    assert choice is not None
    assert (choice.agent_id, choice.basis, choice.revisable_by) == ("S1", Basis.SERVICE_POOL, frozenset({"X"}))


@pytest.mark.parametrize(
    ("standard", "expected"), [(Standard.Y2015, "A"), (Standard.LEGACY, "B")], ids=["2015", "legacy"]
)
def test_contribution_is_the_figure_of_the_customers_standard(standard: Standard, expected: str) -> None:
    def contribution(policy_no: str, agent_id: str, points: str, standard_premium: str) -> PolicyContribution:
        return PolicyContribution(
            policy_no=policy_no,
            channel=AGENCY,
            branch="GD-SZ",
            agent_id=agent_id,
            issued_on=T0.date(),
            points=Decimal(points),
            standard_premium=Decimal(standard_premium),
            state="counted",
            explanation="",
        )

    shares = policy_shares(
        [contribution("P1", "A", "500", "100"), contribution("P2", "B", "400", "200")], standard=standard
    )
    choice = choose_representative(
        policies=shares,
        agents=by_id(agent("A"), agent("B")),
        contacts={},
        load_by_agent=EMPTY,
        serving_channel=AGENCY,
        excluded=(),
        as_of=T0,
    )
    assert choice is not None
    assert choice.agent_id == expected


def test_only_counted_contributions_are_counting_policies() -> None:
    shares = policy_shares(
        [
            PolicyContribution(
                policy_no=f"P{state}",
                channel=AGENCY,
                branch="GD-SZ",
                agent_id="A",
                issued_on=T0.date(),
                points=Decimal("1"),
                standard_premium=Decimal("1"),
                state=state,
                explanation="",
            )
            for state in ("counted", "pending", "excluded")
        ],
        standard=Standard.Y2015,
    )
    assert [share.counted for share in shares] == [True, False, False]


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


# --- properties ------------------------------------------------------------------------------------

AGENT_IDS = [f"A{number}" for number in range(6)]

agents_strategy = st.lists(
    st.builds(
        agent,
        st.sampled_from(AGENT_IDS),
        channel=st.sampled_from([AGENCY, BANK]),
        role=st.sampled_from(list(AgentRole)),
        top=st.booleans(),
        eligible=st.booleans(),
        departed=st.booleans(),
        disqualified=st.booleans(),
    ),
    max_size=6,
    unique_by=lambda each: each.agent_id,
)
policies_strategy = st.lists(
    st.builds(
        policy,
        st.uuids().map(str),
        st.one_of(st.none(), st.sampled_from([*AGENT_IDS, "UNKNOWN"])),
        st.sampled_from(["100", "200", "300"]),
        counted=st.booleans(),
    ),
    max_size=6,
)
contacts_strategy = st.dictionaries(
    st.sampled_from(AGENT_IDS), st.integers(-5, 5).map(lambda days: T0 + timedelta(days=days))
)
loads_strategy = st.dictionaries(st.sampled_from(AGENT_IDS), st.integers(0, 5))


@given(policies_strategy, agents_strategy, contacts_strategy, loads_strategy, st.sets(st.sampled_from(AGENT_IDS)))
def test_the_choice_is_always_assignable_never_excluded_and_independent_of_input_order(
    policies: list[PolicyShare],
    agents: list[Agent],
    contacts: dict[str, datetime],
    loads: dict[str, int],
    excluded: set[str],
) -> None:
    def choose(policies: Sequence[PolicyShare], agents: Sequence[Agent]) -> Choice | None:
        return choose_representative(
            policies=policies,
            agents=by_id(*agents),
            contacts=contacts,
            load_by_agent=loads,
            serving_channel=AGENCY,
            excluded=excluded,
            as_of=T0,
        )

    forward = choose(policies, agents)
    assert forward == choose(list(reversed(policies)), list(reversed(agents)))
    if forward is not None:
        chosen = by_id(*agents)[forward.agent_id]
        assert chosen.assignable
        assert not chosen.disqualified
        assert forward.agent_id not in excluded
        assert forward.agent_id not in forward.revisable_by


@given(agents_strategy, loads_strategy)
def test_a_pool_choice_is_never_more_loaded_than_another_assignable_pool_member(
    agents: list[Agent], loads: dict[str, int]
) -> None:
    choice = choose_representative(
        policies=[],
        agents=by_id(*agents),
        contacts={},
        load_by_agent=loads,
        serving_channel=AGENCY,
        excluded=(),
        as_of=T0,
    )
    members = [
        each for each in agents if each.assignable and each.channel == AGENCY and each.role is not AgentRole.AGENT
    ]
    if not members:
        assert choice is None
        return
    assert choice is not None
    assert loads.get(choice.agent_id, 0) == min(loads.get(each.agent_id, 0) for each in members)
