"""The group program's evaluation (rules.md section 9), table by table, from the example group ruleset:
coefficients at the bands' edges, loyalty's adjustments and bounds, profit with and without data, the
score to 4 places and the level by its bands, and the effective level."""

from datetime import date
from decimal import Decimal

import pytest

from services.tiering.domain.group import (
    Approval,
    ClientFacts,
    ExperiencePeriod,
    Feedback,
    approval_in_force,
    effective_level,
    evaluate,
    loss_ratio,
    loyalty_coefficient,
    profit_coefficient,
    quarter_end,
    recent_periods,
    scale_coefficient,
    whole_years,
)
from shared.group_ruleset import load_group_ruleset
from shared.settings import DEFAULT_GROUP_RULESET_PATH

GROUP = load_group_ruleset(DEFAULT_GROUP_RULESET_PATH)
D = Decimal


@pytest.mark.parametrize(
    ("premium", "coefficient"),
    [("0", "0.8"), ("199999.99", "0.8"), ("200000", "1.0"), ("999999.99", "1.0"), ("1000000", "1.2"),
     ("4999999.99", "1.2"), ("5000000", "1.5"), ("90000000", "1.5")],
)
def test_scale_by_annual_standard_premium_at_the_band_edges(premium: str, coefficient: str) -> None:
    assert scale_coefficient(D(premium), ruleset=GROUP) == D(coefficient)


@pytest.mark.parametrize(
    ("since", "as_of", "years"),
    [(date(2020, 3, 31), date(2026, 3, 30), 5), (date(2020, 3, 31), date(2026, 3, 31), 6),
     (date(2020, 2, 29), date(2021, 2, 28), 1), (date(2026, 4, 1), date(2026, 3, 31), 0), (None, date(2026, 1, 1), 0)],
)
def test_whole_years_as_a_client(since: date | None, as_of: date, years: int) -> None:
    assert whole_years(since, as_of=as_of) == years


@pytest.mark.parametrize(
    ("years", "complaints", "survey", "coefficient"),
    [
        pytest.param(0, 0, None, "0.9", id="under 2 years"),
        pytest.param(2, 0, None, "1.0", id="2 years: the next band"),
        pytest.param(5, 0, None, "1.1", id="5 years"),
        pytest.param(10, 0, None, "1.2", id="10 years"),
        pytest.param(5, 1, None, "1.05", id="one verified complaint: minus 0.05"),
        pytest.param(5, 2, "4.0", "1.05", id="two complaints, a survey at the level: -0.10 +0.05"),
        pytest.param(5, 0, "3.99", "1.1", id="a survey below the level adds nothing"),
        pytest.param(10, 0, "5", "1.25", id="survey step on top"),
        pytest.param(10, 0, None, "1.2", id="no survey"),
        pytest.param(0, 9, None, "0.7", id="bounded below by the minimum"),
    ],
)
def test_loyalty_adjusted_and_bounded(years: int, complaints: int, survey: str | None, coefficient: str) -> None:
    loyalty, _ = loyalty_coefficient(
        years=years, complaints=complaints, survey_average=D(survey) if survey else None, ruleset=GROUP
    )
    assert loyalty == D(coefficient)


def test_loyalty_bounded_above_by_the_maximum() -> None:
    table = GROUP.loyalty.model_copy(update={"survey_step": D("0.5")})
    ruleset = GROUP.model_copy(update={"loyalty": table})
    assert loyalty_coefficient(years=10, complaints=0, survey_average=D(5), ruleset=ruleset)[0] == D("1.3")


def period(end: date, earned: str, incurred: str) -> ExperiencePeriod:
    return ExperiencePeriod(
        period_start=end.replace(day=1), period_end=end, earned_premium=D(earned), incurred_claims=D(incurred)
    )


QUARTERS = (
    period(date(2026, 9, 30), "100", "10"),
    period(date(2026, 6, 30), "100", "20"),
    period(date(2026, 3, 31), "100", "30"),
    period(date(2025, 12, 31), "100", "40"),
    period(date(2025, 9, 30), "100", "900"),
)


@pytest.mark.parametrize(
    ("ratio", "coefficient"),
    [(None, "1.0"), ("0", "1.2"), ("0.3999", "1.2"), ("0.4", "1.0"), ("0.7", "0.8"), ("1.0", "0.6"),
     ("Infinity", "0.6")],
)
def test_profit_by_loss_ratio_and_neutral_without_data(ratio: str | None, coefficient: str) -> None:
    assert profit_coefficient(D(ratio) if ratio else None, ruleset=GROUP) == D(coefficient)


def test_the_loss_ratio_takes_the_last_four_quarters_ended_by_the_date() -> None:
    recent = recent_periods(QUARTERS, as_of=date(2026, 9, 30), quarters=4)
    assert loss_ratio(recent) == D("0.25"), "100 / 400, the fifth quarter back left out"
    earlier = recent_periods(QUARTERS, as_of=date(2026, 9, 29), quarters=4)
    assert loss_ratio(earlier) == D("2.475"), "the quarter ending after the date is not reported yet"
    assert loss_ratio(()) is None
    assert loss_ratio((period(date(2026, 9, 30), "0", "0"),)) is None
    assert loss_ratio((period(date(2026, 9, 30), "0", "5"),)) == D("Infinity")


def facts(**overrides: object) -> ClientFacts:
    values: dict[str, object] = {
        "client_id": "K1", "client_since": date(2020, 1, 1), "annual_standard_premium": D("1000000"),
        "in_force_policies": 3, "experience": QUARTERS, "feedback": Feedback(),
    }
    return ClientFacts(**(values | overrides))  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("overrides", "score", "level"),
    [
        pytest.param({}, "1.5840", "level_2", id="1.2 x 1.1 x 1.2"),
        pytest.param({"annual_standard_premium": D("5000000")}, "1.9800", "level_1", id="1.5 x 1.1 x 1.2"),
        pytest.param({"annual_standard_premium": D("100000"), "experience": ()}, "0.8800", None,
                     id="0.8 x 1.1 x neutral 1.0: a regular client"),
        pytest.param({"annual_standard_premium": D("200000"), "experience": ()}, "1.1000", "level_3",
                     id="1.0 x 1.1 x 1.0"),
        pytest.param({"annual_standard_premium": D("200000"), "client_since": date(2025, 1, 1), "experience": ()},
                     "0.9000", None, id="1.0 x 0.9 x 1.0"),
        pytest.param({"feedback": Feedback(verified_complaints_12_months=2)}, "1.4400", "level_2",
                     id="1.2 x 1.0 x 1.2 after two complaints"),
        pytest.param({"annual_standard_premium": D("200000"), "client_since": date(2023, 10, 1),
                      "experience": (period(date(2026, 9, 30), "300", "100"),),
                      "feedback": Feedback(verified_complaints_12_months=1)},
                     "1.1400", "level_3", id="1.0 x 0.95 x 1.2"),
    ],
)
def test_the_score_and_level(overrides: dict[str, object], score: str, level: str | None) -> None:
    evaluation = evaluate(facts(**overrides), as_of=date(2026, 9, 30), ruleset=GROUP)
    assert (evaluation.score, evaluation.level) == (D(score), level)
    assert evaluation.ruleset_version == "group-example.1"
    assert f"= {evaluation.score}" in evaluation.reason


def test_the_score_is_rounded_half_up_to_four_places() -> None:
    first = GROUP.scale.bands[0].model_copy(update={"coefficient": D("1.23455")})
    scale = GROUP.scale.model_copy(update={"bands": (first, *GROUP.scale.bands[1:])})
    ruleset = GROUP.model_copy(update={"scale": scale})
    evaluation = evaluate(
        facts(annual_standard_premium=D(0), client_since=date(2024, 1, 1), experience=()), as_of=date(2026, 9, 30),
        ruleset=ruleset,
    )
    assert evaluation.score == D("1.2346"), "1.23455 x 1.0 x 1.0"


@pytest.mark.parametrize(
    ("evaluated", "approved", "in_force", "effective"),
    [(None, None, 1, None), ("level_3", None, 1, "level_3"), ("level_3", "level_1", 1, "level_1"),
     ("level_1", "level_3", 1, "level_1"), (None, "level_2", 1, "level_2"), ("level_1", "level_1", 0, None)],
)
def test_the_effective_level_is_the_higher_while_a_policy_is_in_force(
    evaluated: str | None, approved: str | None, in_force: int, effective: str | None
) -> None:
    assert effective_level(evaluated=evaluated, approved=approved, in_force_policies=in_force, ruleset=GROUP) == (
        effective
    )


def test_an_approval_holds_until_its_expiry_date() -> None:
    approval = Approval(level="level_1", expires_on=date(2027, 1, 1), application_id="HA1")
    assert approval_in_force(approval, as_of=date(2026, 12, 31)) == approval
    assert approval_in_force(approval, as_of=date(2027, 1, 1)) is None
    assert approval_in_force(Approval(level="level_1", expires_on=None, application_id="HA2"), as_of=date(2099, 1, 1))


@pytest.mark.parametrize(
    ("day", "expected"),
    [(date(2026, 3, 31), True), (date(2026, 6, 30), True), (date(2026, 9, 30), True), (date(2026, 12, 31), True),
     (date(2026, 12, 30), False), (date(2027, 1, 1), False), (date(2026, 7, 1), False)],
)
def test_quarter_ends(day: date, expected: bool) -> None:
    assert quarter_end(day) is expected
