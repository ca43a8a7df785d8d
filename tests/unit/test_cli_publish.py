"""`vip publish` routing and keying, without a broker: the contract of interfaces.md, line by line."""

from pathlib import Path

import orjson
import pytest
from click.testing import CliRunner

from cli.main import cli
from cli.publish import (
    AGENT_EVENT_TYPES,
    CUSTOMER_EVENT_TYPES,
    POLICY_EVENT_TYPES,
    Route,
    RoutingError,
    find_unroutable,
    read_lines,
    route,
)
from shared.events.inbound import POLICY_EVENT_TYPES as CONTRACT_POLICY_EVENT_TYPES

ROOT = Path(__file__).resolve().parents[2]


def _line(event: dict[str, object]) -> bytes:
    return orjson.dumps(event)


def _policy_event(event_type: str, policy_no: str = "P100234") -> dict[str, object]:
    return {
        "event_id": "e-1",
        "event_type": event_type,
        "occurred_at": "2026-09-01T10:00:00+08:00",
        "policy": {"policy_no": policy_no, "version": 1, "holder_id": "C000981"},
    }


@pytest.mark.parametrize("event_type", sorted(POLICY_EVENT_TYPES))
def test_policy_events_go_to_pas_keyed_by_policy_no(event_type: str) -> None:
    assert route(_line(_policy_event(event_type))) == Route(topic="pas.policy-events", key=b"P100234")


def test_policy_event_types_are_the_contracts() -> None:
    assert set(CONTRACT_POLICY_EVENT_TYPES) == POLICY_EVENT_TYPES


def test_agent_upserted_is_keyed_by_the_nested_agent_id() -> None:
    event = {"event_id": "e", "event_type": "agent_upserted", "agent": {"agent_id": "A00412"}}
    assert route(_line(event)) == Route(topic="hr.agent-events", key=b"A00412")


@pytest.mark.parametrize("event_type", ["agent_departed", "agent_disqualified", "customer_contacted"])
def test_other_agent_events_are_keyed_by_the_top_level_agent_id(event_type: str) -> None:
    event = {"event_id": "e", "event_type": event_type, "agent_id": "A00388", "customer_id": "C000981"}
    assert route(_line(event)) == Route(topic="hr.agent-events", key=b"A00388")


def test_customer_upserted_is_keyed_by_the_nested_customer_id() -> None:
    event = {"event_id": "e", "event_type": "customer_upserted", "customer": {"customer_id": "C000981"}}
    assert route(_line(event)) == Route(topic="crm.customer-events", key=b"C000981")


def test_legacy_vip_imported_is_keyed_by_the_top_level_customer_id() -> None:
    event = {"event_id": "e", "event_type": "legacy_vip_imported", "customer_id": "C000777", "tier": "gold"}
    assert route(_line(event)) == Route(topic="crm.customer-events", key=b"C000777")


def test_event_type_sets_do_not_overlap() -> None:
    assert not POLICY_EVENT_TYPES & AGENT_EVENT_TYPES
    assert not POLICY_EVENT_TYPES & CUSTOMER_EVENT_TYPES
    assert not AGENT_EVENT_TYPES & CUSTOMER_EVENT_TYPES


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        (b'{"event_type": "new_business", ', "not JSON"),
        (b"[1, 2]", "not a JSON object"),
        (b'{"event_id": "e"}', "no event_type"),
        (b'{"event_type": "policy_teleported", "policy": {"policy_no": "P1"}}', "unknown event_type"),
        (b'{"event_type": "new_business", "policy": {"version": 1}}', "without policy.policy_no"),
        (b'{"event_type": "new_business", "policy": "P1"}', "without policy.policy_no"),
        (b'{"event_type": "agent_departed", "departed_on": "2026-01-01"}', "without agent_id"),
        (b'{"event_type": "customer_upserted", "customer": {"customer_id": 981}}', "without customer_id"),
    ],
)
def test_unroutable_lines_say_why(line: bytes, reason: str) -> None:
    with pytest.raises(RoutingError, match=reason):
        route(line)


def test_read_lines_strips_line_endings_skips_blank_lines_and_keeps_numbers(tmp_path: Path) -> None:
    path = tmp_path / "events.jsonl"
    path.write_bytes(b'{"a": 1}\r\n\n   \n{"b": "\xc3\xa9"}\n{"c": 3}')
    assert list(read_lines(path)) == [(1, b'{"a": 1}'), (4, b'{"b": "\xc3\xa9"}'), (5, b'{"c": 3}')]


def test_find_unroutable_reports_line_numbers(tmp_path: Path) -> None:
    path = tmp_path / "mixed.jsonl"
    good = _line(_policy_event("surrender")).decode()
    path.write_text(f'{good}\nnot json\n\n{good}\n{{"event_type": "nope"}}\n', encoding="utf-8")
    assert [number for number, _ in find_unroutable(path)] == [2, 5]


def test_the_example_events_all_route_and_garbage_has_one_non_json_line() -> None:
    assert find_unroutable(ROOT / "examples" / "events.jsonl") == []
    problems = find_unroutable(ROOT / "examples" / "garbage.jsonl")
    assert [(number, reason.split(":")[0]) for number, reason in problems] == [(1, "not JSON")]


def test_publish_refuses_a_file_with_unroutable_lines_before_connecting(tmp_path: Path) -> None:
    path = tmp_path / "bad.jsonl"
    path.write_text('{"event_type": "new_business"}\n', encoding="utf-8")
    result = CliRunner().invoke(cli, ["publish", str(path), "--bootstrap-servers", "127.0.0.1:1"])
    assert result.exit_code == 1
    assert f"{path}:1: new_business without policy.policy_no" in result.output
    assert "nothing sent" in result.output
