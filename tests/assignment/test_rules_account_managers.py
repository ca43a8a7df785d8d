"""The account service manager rule (rules.md section 9, 服务组织), as a table of cases."""

import pytest

from services.assignment.domain.account_managers import choose_account_manager
from services.assignment.domain.assignment import Agent
from shared.events.values import AgentRole, Channel

CS, RENEWAL, BACK, AGENT = AgentRole.CS_SPECIALIST, AgentRole.RENEWAL_STAFF, AgentRole.BACK_OFFICE, AgentRole.AGENT


def person(agent_id: str, branch: str, role: AgentRole = CS, **kwargs: object) -> Agent:
    values: dict[str, object] = {
        "channel": Channel.GROUP, "top_performer": False, "eligible": True, "departed": False, "disqualified": False,
    }
    values.update(kwargs)
    return Agent(agent_id=agent_id, name=agent_id, branch=branch, role=role, **values)  # type: ignore[arg-type]


CASES = [
    ("least loaded of the client's branch", [person("A", "SZ"), person("B", "SZ")], {"A": 3, "B": 1}, {}, "B"),
    ("own branch before a less loaded other branch", [person("A", "SZ"), person("B", "GZ")], {"A": 5, "B": 0}, {}, "A"),
    ("other branches when the branch has nobody", [person("B", "GZ"), person("C", "BJ")], {"B": 2, "C": 1}, {}, "C"),
    ("renewal and back-office staff are service staff", [person("A", "SZ", RENEWAL), person("B", "SZ", BACK)],
     {"A": 1, "B": 0}, {}, "B"),
    ("an agent (sales) is not service staff", [person("A", "SZ", AGENT), person("B", "GZ")], {}, {}, "B"),
    ("another channel's staff is never chosen", [person("A", "SZ", channel=Channel.AGENCY)], {}, {}, None),
    ("an ineligible person is not chosen", [person("A", "SZ", eligible=False), person("B", "SZ")], {"B": 9}, {}, "B"),
    ("a departed person is not chosen", [person("A", "SZ", departed=True)], {}, {}, None),
    ("a disqualified person is not chosen", [person("A", "SZ", disqualified=True)], {}, {}, None),
    ("tie on load: lowest id", [person("B", "SZ"), person("A", "SZ")], {}, {}, "A"),
    ("the excluded person is never chosen", [person("A", "SZ"), person("B", "SZ")], {"B": 4}, {"excluded": {"A"}}, "B"),
    ("after disqualification top performers first", [person("A", "SZ"), person("T", "GZ", AGENT, top_performer=True)],
     {}, {"top_performers_first": True}, "T"),
    ("no top performer: the service staff rule", [person("A", "SZ")], {}, {"top_performers_first": True}, "A"),
]


@pytest.mark.parametrize(("case", "staff", "loads", "options", "expected"), CASES, ids=[case[0] for case in CASES])
def test_the_account_manager_is(
    case: str, staff: list[Agent], loads: dict[str, int], options: dict[str, object], expected: str | None
) -> None:
    chosen = choose_account_manager(branch="SZ", staff=staff, loads=loads, **options)  # type: ignore[arg-type]
    assert (chosen.agent_id if chosen else None) == expected
    reversed_choice = choose_account_manager(
        branch="SZ", staff=list(reversed(staff)), loads=loads, **options  # type: ignore[arg-type]
    )
    assert reversed_choice == chosen
