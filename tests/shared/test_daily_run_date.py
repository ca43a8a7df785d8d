"""A daily run may be dated today or tomorrow in the insurer's zone, never later (interfaces.md)."""

from datetime import date

import pytest

from shared.daily_run import check_run_date
from shared.refusals import Invalid

TODAY = date(2026, 12, 2)


@pytest.mark.parametrize("as_of", [date(2026, 11, 30), TODAY, date(2026, 12, 3)])
def test_today_tomorrow_and_the_past_are_allowed(as_of: date) -> None:
    check_run_date(as_of, today=TODAY, allow_future=False)


def test_after_tomorrow_is_refused_naming_the_latest_allowed_date() -> None:
    with pytest.raises(Invalid) as refused:
        check_run_date(date(9999, 12, 31), today=TODAY, allow_future=False)
    assert "2026-12-03" in refused.value.detail
    assert refused.value.status == 422 and refused.value.reason == "daily_run_date_ahead"


def test_test_environments_may_lift_the_limit() -> None:
    check_run_date(date(9999, 12, 31), today=TODAY, allow_future=True)
