"""rules.md section 7, the dedicated service representative: who is chosen for a new VIP, one case
per rule and tie-break, and properties of the choice."""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.assignment.domain.assignment import Agent, Basis, Choice, PolicyShare, choose_representative
from services.assignment.mapping import policy_shares
from shared.events.internal import PolicyContribution
from shared.events.values import AgentRole, Channel, Standard
from tests.builders.assignment import AGENCY, BANK, EMPTY, T0, agent, by_id, policy, pool


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
