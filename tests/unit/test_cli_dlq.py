"""`vip dlq list / show / replay` against services answered in-process: the durable letters of every
service newest first, one shown whole, replays through each service's endpoint (the service sends
the letter to its original partition), oldest first, filtered, paged, and a dry run that sends nothing."""

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from click.testing import CliRunner

from cli.dead_letters import Letter, select_for_replay
from cli.main import cli as vip

T0 = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)
PORTS = {8001: "scoring", 8002: "tiering", 8003: "assignment", 8004: "entitlements"}


def _letter(letter_id: int, *, minutes: int, topic: str = "pas.policy-events", stage: str = "decode",
            partition: int = 3, reason: str = "invalid JSON") -> dict[str, Any]:
    return {"id": letter_id, "stage": stage, "source_topic": topic, "source_partition": partition,
            "source_offset": 100 + letter_id, "reason": reason,
            "failed_at": (T0 + timedelta(minutes=minutes)).isoformat(), "size": 42,
            "replays": 0, "last_replayed_at": None}


class _Services:
    """Each service's `/v1/ops/dead-letters` over its letters, paging like the real one."""

    def __init__(self) -> None:
        self.letters: dict[str, list[dict[str, Any]]] = {name: [] for name in PORTS.values()}
        self.replayed: list[tuple[str, int]] = []
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        service = PORTS[request.url.port or 0]
        assert request.headers["authorization"] == "Bearer ops-token"
        path = request.url.path.removeprefix("/v1/ops/dead-letters")
        letters = sorted(self.letters[service], key=lambda letter: -letter["id"])
        if request.method == "GET" and not path:
            query = request.url.params
            limit = int(query["limit"])
            chosen = [letter for letter in letters
                      if ("before_id" not in query or letter["id"] < int(query["before_id"]))
                      and query.get("source_topic", letter["source_topic"]) == letter["source_topic"]][:limit]
            return httpx.Response(200, json={"letters": chosen,
                                             "next_before_id": chosen[-1]["id"] if len(chosen) == limit else None})
        letter = next((letter for letter in letters if letter["id"] == int(path.split("/")[1])), None)
        if letter is None:
            return httpx.Response(404, json={"status": 404, "detail": f"dead letter {path} does not exist"})
        if request.method == "POST":
            letter["replays"] += 1
            self.replayed.append((service, letter["id"]))
            return httpx.Response(200, json={"id": letter["id"], "topic": letter["source_topic"],
                                             "partition": letter["source_partition"], "replays": letter["replays"]})
        return httpx.Response(200, json={**letter, "key": "P1", "headers": [["trace", "abc"]],
                                         "value": "{not json", "value_encoding": "utf-8"})


@pytest.fixture
def services(monkeypatch: pytest.MonkeyPatch) -> Iterator[_Services]:
    fake = _Services()
    real_client = httpx.Client
    monkeypatch.setattr(httpx, "Client", lambda **kw: real_client(transport=httpx.MockTransport(fake), **kw))
    for name in ("VIP_SCORING_URL", "VIP_TIERING_URL", "VIP_ASSIGNMENT_URL", "VIP_ENTITLEMENTS_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("VIP_TOKEN", "ops-token")
    yield fake


def _run(*args: str) -> Any:
    return CliRunner().invoke(vip, ["dlq", *args, "--http-port-base", "8001"])


def test_list_shows_every_services_letters_newest_first_with_where_and_why(services: _Services) -> None:
    services.letters["scoring"] = [_letter(1, minutes=1), _letter(2, minutes=5, reason="policy.version: too big")]
    services.letters["tiering"] = [_letter(1, minutes=3, topic="vip.customer-scores.v1", partition=6)]
    shown = _run("list")
    assert shown.exit_code == 0, shown.output
    lines = shown.output.splitlines()
    assert [re.search(r"(scoring|tiering) +#(\d+)", line).groups() for line in lines[:3]] == [  # type: ignore[union-attr]
        ("scoring", "2"), ("tiering", "1"), ("scoring", "1")]
    assert "pas.policy-events[3]@102" in lines[0] and "policy.version: too big" in lines[0]
    assert "vip.customer-scores.v1[6]@101" in lines[1]
    assert lines[-1] == "3 dead letter(s)"


def test_list_filters_by_topic_and_time_and_pages_through_a_long_table(services: _Services) -> None:
    services.letters["scoring"] = [_letter(i, minutes=i) for i in range(1, 1201)]
    services.letters["tiering"] = [_letter(1, minutes=2000, topic="vip.customer-scores.v1")]
    shown = _run("list", "--topic", "pas.policy-events", "--since", (T0 + timedelta(minutes=101)).isoformat(),
                 "--limit", "10000")
    assert shown.exit_code == 0, shown.output
    assert shown.output.splitlines()[-1] == "1100 dead letter(s)"
    pages = [r for r in services.requests if r.url.port == 8001]
    assert len(pages) == 3  # 500 + 500 + the page where letters get older than --since


def test_show_prints_the_original_headers_and_value(services: _Services) -> None:
    services.letters["scoring"] = [_letter(7, minutes=1)]
    shown = CliRunner().invoke(vip, ["dlq", "show", "scoring", "7", "--http-port-base", "8001"])
    assert shown.exit_code == 0, shown.output
    assert "source_partition:  3" in shown.output and "  trace: abc" in shown.output
    assert shown.output.rstrip().endswith("{not json")
    missing = CliRunner().invoke(vip, ["dlq", "show", "scoring", "8", "--http-port-base", "8001"])
    assert missing.exit_code == 1 and "does not exist" in missing.output


def test_replay_sends_the_chosen_letters_oldest_first_through_each_service(services: _Services) -> None:
    services.letters["scoring"] = [_letter(1, minutes=-60), _letter(2, minutes=1), _letter(3, minutes=2, topic="other"),
                                   _letter(4, minutes=4)]
    services.letters["entitlements"] = [_letter(1, minutes=3, stage="publish")]
    services.letters["tiering"] = [_letter(9, minutes=2)]
    done = _run("replay", "--topic", "pas.policy-events", "--since", T0.isoformat())
    assert done.exit_code == 0, done.output
    assert services.replayed == [("scoring", 2), ("tiering", 9), ("scoring", 4)]
    assert "entitlements:1" in done.output and "not replayable" in done.output
    assert "scoring:2 -> pas.policy-events[3] (replay #1)" in done.output
    assert done.output.splitlines()[-1] == "replayed 3 message(s) to pas.policy-events"


def test_replay_of_one_letter_and_a_dry_run(services: _Services) -> None:
    services.letters["scoring"] = [_letter(1, minutes=1), _letter(2, minutes=2)]
    dry = _run("replay", "--topic", "pas.policy-events", "--dry-run", "--limit", "1")
    assert dry.exit_code == 0 and services.replayed == []
    assert dry.output.splitlines()[-1] == "would replay 1 message(s) to pas.policy-events"
    one = _run("replay", "scoring:2")
    assert one.exit_code == 0, one.output
    assert services.replayed == [("scoring", 2)]


def test_replay_refuses_a_dlq_topic_and_an_ambiguous_choice(services: _Services) -> None:
    refused = _run("replay", "--topic", "pas.policy-events.dlq")
    assert refused.exit_code != 0 and "name the source topic" in refused.output
    neither = _run("replay")
    assert neither.exit_code != 0 and "name one letter" in neither.output
    bad = _run("replay", "scoring-7")
    assert bad.exit_code != 0 and "SERVICE:ID" in bad.output


def test_letters_the_broker_refused_for_good_are_never_chosen() -> None:
    letters = [Letter.of("scoring", _letter(i, minutes=-i, stage="publish" if i % 2 else "apply")) for i in range(6)]
    chosen, skipped = select_for_replay(letters, limit=2)
    assert [letter.id for letter in chosen] == [4, 2]
    assert {letter.id for letter in skipped} == {1, 3, 5}
