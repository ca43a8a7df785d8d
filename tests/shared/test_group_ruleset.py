"""The group ruleset stops a service with a message naming the table and the band."""

from pathlib import Path

import pytest
import yaml

from shared.group_ruleset import load_group_ruleset
from shared.ruleset import RulesetError

EXAMPLE = Path(__file__).resolve().parents[2] / "rulesets" / "group-example.1.yaml"


def _with(tmp_path: Path, change: dict[str, object]) -> Path:
    document = yaml.safe_load(EXAMPLE.read_text(encoding="utf-8"))
    document.update(change)
    path = tmp_path / "group.yaml"
    path.write_text(yaml.safe_dump(document, allow_unicode=True), encoding="utf-8")
    return path


def test_the_shipped_example_loads_and_says_it_is_an_example() -> None:
    ruleset = load_group_ruleset(EXAMPLE)
    assert ruleset.example is True
    assert ruleset.designation_chain == ("branch_group_insurance", "branch_gm", "hq_group_insurance")


@pytest.mark.parametrize(
    ("bands", "message"),
    [
        ([{"from": 0, "to": 2, "coefficient": 0.9}, {"from": 3, "coefficient": 1.0}], "bands 1 and 2 leave a gap"),
        ([{"from": 0, "to": 2, "coefficient": 0.9}, {"from": 1, "coefficient": 1.0}], "bands 1 and 2 overlap"),
        ([{"from": 1, "to": 2, "coefficient": 0.9}, {"from": 2, "coefficient": 1.0}], "band 1 must start at 0"),
        ([{"from": 0, "to": 2, "coefficient": 0}, {"from": 2, "coefficient": 1.0}], "greater than 0"),
    ],
)
def test_a_bad_loyalty_table_names_the_table_and_band(tmp_path: Path, bands: object, message: str) -> None:
    loyalty = yaml.safe_load(EXAMPLE.read_text(encoding="utf-8"))["loyalty"] | {"bands": bands}
    with pytest.raises(RulesetError, match=message) as refused:
        load_group_ruleset(_with(tmp_path, {"loyalty": loyalty}))
    assert "loyalty" in str(refused.value)


def test_a_record_pointing_at_an_unknown_service_is_refused(tmp_path: Path) -> None:
    records = {"green_channel": "teleportation", "daily_care": "holiday_care", "consultation": "consultation",
               "complaint": "consultation", "survey": "satisfaction_survey"}
    with pytest.raises(RulesetError, match=r"records\.green_channel: unknown service code 'teleportation'"):
        load_group_ruleset(_with(tmp_path, {"records": records}))
