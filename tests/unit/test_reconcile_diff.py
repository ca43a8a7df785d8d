"""The reconciliation's merge, judged policy by policy (cli/reconcile/diff.py, snapshot.py)."""

from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import orjson

from cli.reconcile import snapshot
from cli.reconcile.diff import Tally, reconcile
from shared.ruleset import load_ruleset
from shared.settings import DEFAULT_RULESET_PATH
from tests.builders.policies import policy_event

RULESET = load_ruleset(DEFAULT_RULESET_PATH)
AS_OF = date(2026, 12, 2)


def state(policy_no: str, holder_id: str = "C1", **fields: Any) -> dict[str, Any]:
    document: dict[str, Any] = policy_event(policy_no=policy_no, holder_id=holder_id, **fields)["policy"]
    return document


def run(
    lines: list[str], platform: list[dict[str, Any]], tmp_path: Path, *, full: bool = False
) -> tuple[list[Any], Tally]:
    path = tmp_path / "snapshot.jsonl"
    path.write_text("\n".join(lines) + "\n")
    tally = Tally()
    found = list(
        reconcile(
            snapshot.in_order(path, scratch=tmp_path), platform, ruleset=RULESET, as_of=AS_OF, full=full, tally=tally
        )
    )
    return found, tally


def dumps(document: dict[str, Any]) -> str:
    return orjson.dumps(document).decode()


def test_the_same_book_agrees(tmp_path: Path) -> None:
    book = [state("P1"), state("P2")]

    found, tally = run([dumps(policy) for policy in book], book, tmp_path)

    assert (found, tally.compared, tally.agreeing, dict(tally.kinds)) == ([], 2, 2, {})


def test_a_premium_written_differently_is_the_same_state(tmp_path: Path) -> None:
    found, _ = run([dumps(state("P1", modal_premium="36000.0"))], [state("P1")], tmp_path)

    assert found == []


def test_each_kind_of_difference_with_the_points_that_move(tmp_path: Path) -> None:
    platform = [state("P1", version=3), state("P2"), state("P4", holder_id="C4")]
    lines = [
        dumps(state("P1", version=4, status="surrendered")),  # newer in the source: surrendered
        dumps(state("P2", modal_premium="40000.00")),  # same version, different premium
        "{not json",
        dumps(state("P3", holder_id="C3")),  # unknown to the platform
    ]

    found, tally = run(lines, platform, tmp_path, full=True)

    assert [(item.kind, item.policy_no, item.line, item.publish) for item in found] == [
        ("version", "P1", 1, True),
        ("state", "P2", 2, True),
        ("malformed", "", 3, False),
        ("only_in_snapshot", "P3", 4, True),
        ("only_on_platform", "P4", None, False),
    ]
    assert found[1].fields == ("modal_premium",)
    assert tally.customers_changing == {
        "C1": Decimal("-36000.00") + Decimal("4000.00"),
        "C3": Decimal("36000.00"),
        "C4": Decimal("-36000.00"),
    }


def test_an_older_snapshot_version_is_a_difference_but_no_correction(tmp_path: Path) -> None:
    [found], _ = run([dumps(state("P1", version=2, status="lapsed"))], [state("P1", version=5)], tmp_path)

    assert (found.kind, found.publish) == ("version", False)


def test_without_full_the_platforms_extra_policies_are_only_counted(tmp_path: Path) -> None:
    found, tally = run([dumps(state("P2"))], [state("P1"), state("P2"), state("P3")], tmp_path)

    assert (found, tally.unchecked, tally.agreeing) == ([], 2, 1)


def test_an_unsorted_snapshot_is_sorted_with_runs_and_a_repeat_is_malformed(tmp_path: Path, monkeypatch: Any) -> None:
    monkeypatch.setattr(snapshot, "RUN_LINES", 2)
    platform = [state(f"P{n}") for n in range(1, 6)]
    lines = [dumps(state(f"P{n}")) for n in (5, 3, 1, 4, 2)] + [dumps(state("P3", status="lapsed"))]

    found, tally = run(lines, platform, tmp_path)

    assert [(item.kind, item.policy_no, item.line, item.detail) for item in found] == [
        ("malformed", "P3", 6, "policy_no repeats line 2")
    ]
    assert tally.agreeing == 5


def test_a_state_that_breaks_the_contract_is_malformed_with_its_field(tmp_path: Path) -> None:
    [found], _ = run([dumps(state("P1", status="sleeping"))], [state("P1")], tmp_path)

    assert (found.kind, found.line) == ("malformed", 1)
    assert found.detail.startswith("status:")
