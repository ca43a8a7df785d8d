"""`vip simulate` and `vip reconcile` against the whole platform (`vip up`), as an analyst runs them.

The example book is published; a candidate ruleset with lower thresholds moves a customer up without
changing anything; a policy admin snapshot with one changed, one missing, one extra policy and one
malformed line is reconciled (exit 1, the report's rows), and `--publish` applies the corrections.
"""

import csv
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import orjson
import pytest
import yaml

from tests.builders.policies import policy_event
from tests.e2e.platform import ROOT, Platform, eventually, running_platform, vip

TOKEN = f"e2e-{uuid.uuid4().hex[:8]}"
EXAMPLE_POLICIES = 7
"""Distinct policy numbers in examples/events.jsonl."""

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def platform(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Platform]:
    with running_platform(tmp_path_factory.mktemp("vip-up"), tokens=f"{TOKEN}=call_center+ops+admin") as running:
        published = vip(
            "publish", str(ROOT / "examples" / "events.jsonl"), "--bootstrap-servers", running.bootstrap_servers
        )
        assert published.returncode == 0, published.stdout + published.stderr
        eventually(
            "the example book is tiered",
            lambda: _tier(running, "C000984") == "gold" and _tier(running, "C000981") == "gold",
        )
        yield running


def _get(url: str) -> httpx.Response:
    return httpx.get(url, headers={"Authorization": f"Bearer {TOKEN}"}, timeout=10)


def _tier(platform: Platform, customer_id: str) -> str | None:
    response = _get(f"{platform.entitlements}/v1/customers/{customer_id}")
    return response.json().get("tier") if response.status_code == 200 else "unknown"


def _export(platform: Platform) -> list[dict[str, object]]:
    lines = _get(f"{platform.scoring}/v1/ops/exports/policies").content.splitlines()
    header, rows = orjson.loads(lines[0]), [orjson.loads(line) for line in lines[1:]]
    assert header == {"export": "policies", "rows": len(rows)}
    return [row["policy"] for row in rows]


def _cli(platform: Platform, *arguments: str) -> tuple[int, str]:
    done = vip(*arguments, "--token", TOKEN, "--http-port-base", str(platform.http_base))
    return done.returncode, done.stdout + done.stderr


def test_a_candidate_with_lower_thresholds_moves_a_customer_up_and_changes_nothing(
    platform: Platform, tmp_path: Path
) -> None:
    candidate = yaml.safe_load((ROOT / "rulesets" / "individual-2015.yaml").read_text())
    candidate["version"] = "candidate.1"
    candidate["thresholds"]["2015"] |= {"gold": "20000", "platinum": "40000"}
    path = tmp_path / "candidate.yaml"
    path.write_text(yaml.safe_dump(candidate, allow_unicode=True))
    eventually("scoring holds the example book", lambda: len(_export(platform)) == EXAMPLE_POLICIES)

    code, output = _cli(
        platform, "simulate", "--ruleset", str(path), "--as-of", "2026-12-02", "--output", str(tmp_path / "out.csv")
    )

    assert code == 0, output
    # C000984: 41,000 points, Gold -> Platinum by the candidate; C000983's policy left cooling-off since
    # the last daily run, so they move under the live rules too (none -> Platinum)
    assert "customers who would move: 2 (2 up, 0 down)" in output, output
    assert "of which the candidate's own effect: 1 " in output, output
    rows = {row["customer_id"]: row for row in csv.DictReader((tmp_path / "out.csv").open())}
    assert (rows["C000984"]["tier_now"], rows["C000984"]["tier_candidate"]) == ("gold", "platinum")
    assert (rows["C000981"]["tier_now"], rows["C000981"]["tier_candidate"]) == ("gold", "gold")
    assert (rows["C000983"]["tier_live"], rows["C000983"]["moved_by_candidate"]) == ("platinum", "false")
    assert _tier(platform, "C000984") == "gold"  # nothing changed


def test_a_candidate_that_fails_validation_stops_naming_the_field(platform: Platform, tmp_path: Path) -> None:
    candidate = yaml.safe_load((ROOT / "rulesets" / "individual-2015.yaml").read_text())
    candidate["thresholds"]["2015"]["gold"] = "-5"
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(candidate, allow_unicode=True))

    code, output = _cli(platform, "simulate", "--ruleset", str(path))

    assert code == 1
    assert "thresholds.2015.gold" in output and "nothing was read" in output


def test_a_snapshot_with_differences_is_reported_and_published_corrections_apply(
    platform: Platform, tmp_path: Path
) -> None:
    book = {str(policy["policy_no"]): policy for policy in _export(platform)}
    changed = dict(book["P100234"]) | {"version": int(str(book["P100234"]["version"])) + 1, "status": "surrendered"}
    extra = policy_event(policy_no="P999001", holder_id="C000999")["policy"]
    snapshot = [changed if no == "P100234" else policy for no, policy in sorted(book.items()) if no != "P100402"]
    lines = [orjson.dumps(policy).decode() for policy in [*snapshot, extra]]
    lines.insert(2, "{this is not json")
    path, report = tmp_path / "snapshot.jsonl", tmp_path / "report.csv"
    path.write_text("\n".join(lines) + "\n")

    code, output = _cli(platform, "reconcile", str(path), "--full", "--report", str(report))

    assert code == 1, output
    rows = sorted((row["kind"], row["policy_no"], row["line"]) for row in csv.DictReader(report.open()))
    assert rows == [
        ("malformed", "", "3"),
        ("only_in_snapshot", "P999001", str(len(lines))),
        ("only_on_platform", "P100402", ""),
        ("version", "P100234", "1"),
    ]
    assert "customers whose points would change: 3" in output  # C000981 -36000, C000983 -80000, C000999 +36000

    code, output = _cli(
        platform,
        "reconcile",
        str(path),
        "--publish",
        "--report",
        str(report),
        "--bootstrap-servers",
        platform.bootstrap_servers,
    )

    assert code == 1, output
    assert "policy_reconciled events published: 2" in output
    eventually("the surrender from the snapshot is applied", lambda: _tier(platform, "C000981") is None)
    points = _get(f"{platform.scoring}/v1/customers/C000981/points").json()
    assert (points["trigger"], points["points"]) == ("policy_reconciled", "0.00")
    assert points["policies"][0]["reconciliations"] == 1
    eventually("the extra policy is known", lambda: _tier(platform, "C000999") == "gold")

    path.write_text("\n".join(line for line in lines if not line.startswith("{this")) + "\n")
    code, output = _cli(platform, "reconcile", str(path), "--report", str(report))
    assert code == 0, output
