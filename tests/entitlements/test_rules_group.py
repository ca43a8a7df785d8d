"""The group program's service rules (rules.md section 9) as tables: the catalog per level and its
yearly counts, what recording refuses, survey averages, complaint timing, feedback, quarterly
requirements, the investment estimate and the assessment."""

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from services.entitlements.domain.group_records import (
    check_resolution,
    feedback_of,
    is_overdue,
    resolved_in_time,
    survey_average,
)
from services.entitlements.domain.group_reports import assess, client_quarter, investment, quarterly_summary
from services.entitlements.domain.group_services import (
    allowances,
    check_quota,
    quarter_bounds,
    required_by_quarter_end,
    service_to_record,
)
from shared.group_ruleset import load_group_ruleset
from shared.refusals import Conflict, Invalid
from shared.settings import DEFAULT_GROUP_RULESET_PATH

RULES = load_group_ruleset(DEFAULT_GROUP_RULESET_PATH)
T = datetime(2026, 10, 5, 1, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("level", "expected"),
    [
        ("level_1", {"service_counter": None, "claims_green_channel": None, "holiday_care": 4, "service_visit": 4,
                     "health_lecture": 2, "consultation": None, "satisfaction_survey": 1}),
        ("level_3", {"service_counter": None, "claims_green_channel": 4, "holiday_care": 1, "consultation": None,
                     "satisfaction_survey": 1}),
        (None, {"service_counter": None, "consultation": None}),
    ],
)
def test_the_catalog_offered_per_level_with_its_yearly_counts(
    level: str | None, expected: dict[str, int | None]
) -> None:
    offered = allowances(level=level, used={"holiday_care": 1}, ruleset=RULES)
    assert {each.code: each.quota for each in offered} == expected
    holiday = [each for each in offered if each.code == "holiday_care"]
    assert all(each.remaining == (each.quota or 0) - 1 for each in holiday)


@pytest.mark.parametrize(
    ("code", "level", "reason"),
    [
        ("yacht_trip", "level_1", "unknown_service"),
        ("claims_green_channel", None, "not_vip"),
        ("health_lecture", "level_3", "not_offered"),
    ],
)
def test_recording_refuses_with_the_reason(code: str, level: str | None, reason: str) -> None:
    with pytest.raises(Invalid) as refused:
        service_to_record(code=code, level=level, ruleset=RULES)
    assert refused.value.reason == reason


@pytest.mark.parametrize(
    ("code", "level", "used", "refused"),
    [
        ("claims_green_channel", "level_3", 3, False),
        ("claims_green_channel", "level_3", 4, True),
        ("claims_green_channel", "level_1", 999, False),
        ("consultation", None, 50, False),
        ("satisfaction_survey", "level_2", 1, True),
    ],
)
def test_a_recorded_service_counts_against_the_yearly_count(
    code: str, level: str | None, used: int, refused: bool
) -> None:
    service = service_to_record(code=code, level=level, ruleset=RULES)
    if refused:
        with pytest.raises(Conflict) as conflict:
            check_quota(service=service, level=level, used_this_year=used, year=2026)
        assert conflict.value.reason == "quota_reached"
    else:
        check_quota(service=service, level=level, used_this_year=used, year=2026)


GOOD = {"responsiveness": 5, "claims": 4, "manager": 5, "information": 4, "overall": 4}


@pytest.mark.parametrize(
    ("scores", "outcome"),
    [
        (GOOD, Decimal("4.40")),
        ({**GOOD, "overall": 3}, Decimal("4.20")),
        ({key: 1 for key in GOOD}, Decimal("1.00")),
        ({**GOOD, "claims": 0}, "score_out_of_range"),
        ({**GOOD, "claims": 6}, "score_out_of_range"),
        ({**GOOD, "price": 3}, "unknown_question"),
        ({key: value for key, value in GOOD.items() if key != "overall"}, "missing_question"),
    ],
)
def test_a_survey_scores_every_question_1_to_5(scores: dict[str, int], outcome: Decimal | str) -> None:
    if isinstance(outcome, Decimal):
        assert survey_average(scores, RULES.questionnaire) == outcome
    else:
        with pytest.raises(Invalid) as refused:
            survey_average(scores, RULES.questionnaire)
        assert refused.value.reason == outcome


@pytest.mark.parametrize(
    ("resolved_after", "now_after", "overdue", "in_time"),
    [
        (None, timedelta(hours=47), False, False),
        (None, timedelta(hours=49), True, False),
        (timedelta(hours=48), timedelta(days=30), False, True),
        (timedelta(hours=49), timedelta(days=30), False, False),
    ],
)
def test_complaint_timing_against_the_response_hours(
    resolved_after: timedelta | None, now_after: timedelta, overdue: bool, in_time: bool
) -> None:
    resolved = T + resolved_after if resolved_after is not None else None
    assert is_overdue(received_at=T, resolved_at=resolved, now=T + now_after, ruleset=RULES) is overdue
    assert resolved_in_time(received_at=T, resolved_at=resolved, ruleset=RULES) is in_time


def test_a_complaint_resolved_before_it_was_received_is_refused() -> None:
    with pytest.raises(Invalid) as refused:
        check_resolution(received_at=T, resolved_at=T - timedelta(minutes=1))
    assert refused.value.reason == "resolved_before_received"


def test_feedback_counts_verified_complaints_of_the_last_12_months_and_the_last_survey() -> None:
    complaints = [
        (date(2025, 12, 2), True), (date(2025, 12, 3), True), (date(2026, 6, 1), False), (date(2026, 12, 3), True)
    ]
    surveys = [(date(2025, 11, 1), Decimal("3.00")), (date(2026, 11, 1), Decimal("4.40"))]

    feedback = feedback_of(complaints=complaints, surveys=surveys, as_of=date(2026, 12, 2))

    assert feedback.verified_complaints_12_months == 1
    assert (feedback.last_survey_average, feedback.last_survey_on) == (Decimal("4.40"), date(2026, 11, 1))


@pytest.mark.parametrize(
    ("yearly", "quarter", "due"),
    [(4, 1, 1), (4, 4, 4), (1, 3, 0), (1, 4, 1), (2, 1, 0), (2, 2, 1), (None, 4, None)],
)
def test_what_is_due_by_a_quarters_end(yearly: int | None, quarter: int, due: int | None) -> None:
    assert required_by_quarter_end(yearly, quarter) == due


def test_quarter_bounds() -> None:
    assert quarter_bounds(2026, 1) == (date(2026, 1, 1), date(2026, 3, 31))
    assert quarter_bounds(2026, 4) == (date(2026, 10, 1), date(2026, 12, 31))


def record(code: str, on: date, **extra: Any) -> dict[str, Any]:
    row = {"record_id": 1, "kind": "service", "service_code": code, "occurred_on": on, "level": "level_2",
           "cost": Decimal("100"), "received_at": None, "resolved_at": None, "verified": None, "average": None,
           "details": {}}
    return {**row, **extra}


def test_the_investment_estimate_is_clients_times_yearly_count_times_unit_cost_against_actual_cost() -> None:
    records = [record("holiday_care", date(2026, 2, 1), cost=Decimal("280")), record("holiday_care", date(2026, 9, 1))]

    lines = investment(clients_per_level={"level_2": 3, None: 10}, records=records, ruleset=RULES)

    by_key = {(line.level, line.code): line for line in lines}
    holiday = by_key["level_2", "holiday_care"]
    assert (holiday.clients, holiday.estimate, holiday.delivered, holiday.actual_cost) == (
        3, Decimal("1800.00"), 2, Decimal("380.00")
    )
    assert by_key["level_2", "claims_green_channel"].estimate == Decimal("7200.00")
    assert by_key["level_1", "claims_green_channel"].estimate is None
    assert ("level_3", "service_visit") not in by_key


def test_the_quarterly_summary_compares_required_and_delivered() -> None:
    complaint = record("consultation", date(2026, 10, 5), kind="complaint", received_at=T,
                       resolved_at=T + timedelta(hours=50), verified=True, details={"topic": "t", "handler": "h"})
    records = [record("holiday_care", date(2026, 4, 1)), record("holiday_care", date(2026, 11, 1)), complaint]

    summary = quarterly_summary(client_id="C1", level="level_2", year=2026, quarter=4, records=records, ruleset=RULES,
                                now=T + timedelta(days=60))

    holiday = next(line for line in summary.services if line.code == "holiday_care")
    assert (holiday.yearly, holiday.required_to_date, holiday.delivered_in_quarter, holiday.delivered_to_date) == (
        2, 2, 1, 2
    )
    (handled,) = summary.complaints
    assert handled.verified and not handled.resolved_in_time and not handled.overdue


def test_the_assessment_sums_clients_per_branch_with_on_time_share_and_retention() -> None:
    on_time = client_quarter(
        client_id="C1", branch="SZ", manager="M1", level="level_3", vip_year_before=True, year=2026, quarter=4,
        records=[record("holiday_care", date(2026, 5, 1)), record("satisfaction_survey", date(2026, 11, 1),
                                                                  kind="survey", average=Decimal("4.00"))],
        ruleset=RULES,
    )
    behind = client_quarter(
        client_id="C2", branch="SZ", manager="M2", level=None, vip_year_before=True, year=2026, quarter=4, records=[],
        ruleset=RULES,
    )

    (branch,) = assess([on_time, behind], by="branch")

    assert (branch.key, branch.vip_clients, branch.required, branch.delivered_on_time) == ("SZ", 1, 2 + 4, 2)
    assert branch.on_time_share == Decimal("0.3333") and branch.average_satisfaction == Decimal("4.00")
    assert (branch.vip_year_before, branch.retained, branch.retention) == (2, 1, Decimal("0.5000"))
    assert [group.key for group in assess([on_time, behind], by="manager")] == ["M1", "M2"]
