"""The dates of the holiday-care occasions (rules.md section 7) in a given year.

Spring Festival (lunar 1-1) and Mid-Autumn (lunar 8-15) come from `lunardate`, a maintained
Chinese-calendar library: lunar dates are never typed in by hand. National Day is 10-01, Mother's Day
the second Sunday of May, Father's Day the third Sunday of June. A birthday of 29 February falls on
28 February in a common year. Pure: no clock, no I/O.
"""

from datetime import date, timedelta
from functools import cache

from lunardate import LunarDate

from shared.ruleset import Occasion

SUNDAY = 6


def _nth_sunday(year: int, month: int, nth: int) -> date:
    first = date(year, month, 1)
    return first + timedelta(days=(SUNDAY - first.weekday()) % 7 + 7 * (nth - 1))


def birthday_in(year: int, birthday: date) -> date:
    """The birthday's date in `year` (29 February: 28 February in a common year)."""
    try:
        return birthday.replace(year=year)
    except ValueError:
        return date(year, 2, 28)


@cache
def festival_date(occasion: Occasion, year: int) -> date:
    """The date of a fixed (non-birthday) occasion in `year`; remembered, since every VIP of the year
    asks for the same few (the lunar conversion was most of a new VIP's holiday items' cost)."""
    if occasion is Occasion.SPRING_FESTIVAL:
        return _solar(LunarDate(year, 1, 1))
    if occasion is Occasion.MID_AUTUMN:
        return _solar(LunarDate(year, 8, 15))
    if occasion is Occasion.NATIONAL_DAY:
        return date(year, 10, 1)
    if occasion is Occasion.MOTHERS_DAY:
        return _nth_sunday(year, 5, 2)
    if occasion is Occasion.FATHERS_DAY:
        return _nth_sunday(year, 6, 3)
    raise ValueError(f"{occasion} has no fixed date: it is the customer's own")


def _solar(lunar: LunarDate) -> date:
    solar: date = lunar.to_solar_date()
    return solar


def occasion_date(occasion: Occasion, year: int, *, birthday: date | None) -> date | None:
    """The occasion's date in `year`; None for a birthday the CRM has not given."""
    if occasion is Occasion.BIRTHDAY:
        return birthday_in(year, birthday) if birthday is not None else None
    return festival_date(occasion, year)


LABELS = {
    Occasion.BIRTHDAY: "Birthday",
    Occasion.SPRING_FESTIVAL: "Spring Festival",
    Occasion.MID_AUTUMN: "Mid-Autumn",
    Occasion.NATIONAL_DAY: "National Day",
    Occasion.MOTHERS_DAY: "Mother's Day",
    Occasion.FATHERS_DAY: "Father's Day",
}
"""How an occasion reads in an item ("Mid-Autumn 2027")."""
