"""The representative's duties as pure rules (rules.md section 7): the festival calendar, the items
each source generates, recording an item done, and a VIP's year against the minimums."""

from datetime import date

import pytest

from services.assignment.domain.calendar import festival_date, occasion_date
from services.assignment.domain.duties import (
    Completion,
    ItemState,
    PolicyIssue,
    WorkItem,
    campaign_window,
    check_completion,
    completed,
    compliance,
    delivery_items,
    help_item,
    holiday_items,
)
from shared.refusals import Conflict, Invalid
from shared.ruleset import ContactChannel, Duty, Occasion, RulesetError, parse_ruleset
from shared.settings import DEFAULT_RULESET_PATH
from tests.assignment.fakes import RULESET

DUTIES = RULESET.duties


@pytest.mark.parametrize(
    ("year", "spring_festival", "mid_autumn"),
    [
        # published dates (State Council holiday notices; the lunar calendar)
        (2024, date(2024, 2, 10), date(2024, 9, 17)),
        (2025, date(2025, 1, 29), date(2025, 10, 6)),
        (2026, date(2026, 2, 17), date(2026, 9, 25)),
        (2027, date(2027, 2, 6), date(2027, 9, 15)),
        (2028, date(2028, 1, 26), date(2028, 10, 3)),
    ],
)
def test_lunar_festivals_fall_on_the_published_dates(year: int, spring_festival: date, mid_autumn: date) -> None:
    assert festival_date(Occasion.SPRING_FESTIVAL, year) == spring_festival
    assert festival_date(Occasion.MID_AUTUMN, year) == mid_autumn


@pytest.mark.parametrize(
    ("occasion", "year", "expected"),
    [
        (Occasion.NATIONAL_DAY, 2027, date(2027, 10, 1)),
        (Occasion.MOTHERS_DAY, 2026, date(2026, 5, 10)),  # second Sunday of May
        (Occasion.MOTHERS_DAY, 2027, date(2027, 5, 9)),
        (Occasion.FATHERS_DAY, 2026, date(2026, 6, 21)),  # third Sunday of June
        (Occasion.FATHERS_DAY, 2027, date(2027, 6, 20)),
    ],
)
def test_solar_occasions(occasion: Occasion, year: int, expected: date) -> None:
    assert festival_date(occasion, year) == expected


def test_a_birthday_on_29_february_falls_on_28_february_in_a_common_year() -> None:
    assert occasion_date(Occasion.BIRTHDAY, 2027, birthday=date(1980, 2, 29)) == date(2027, 2, 28)
    assert occasion_date(Occasion.BIRTHDAY, 2028, birthday=date(1980, 2, 29)) == date(2028, 2, 29)
    assert occasion_date(Occasion.BIRTHDAY, 2027, birthday=None) is None


def test_a_year_of_holiday_care_from_the_start_of_the_year() -> None:
    items = holiday_items("C1", year=2027, birthday=date(1970, 3, 12), from_date=date(2027, 1, 1), duties=DUTIES)

    by_occasion = {item.occasion: item for item in items}
    assert set(by_occasion) == {
        "Birthday 2027", "Spring Festival 2027", "Mid-Autumn 2027", "National Day 2027", "Mother's Day 2027",
        "Father's Day 2027",
    }
    mid_autumn = by_occasion["Mid-Autumn 2027"]
    assert mid_autumn.due_on == date(2027, 9, 15) and mid_autumn.opens_on == date(2027, 9, 8)
    assert mid_autumn.channels == {ContactChannel.VISIT, ContactChannel.WECHAT, ContactChannel.SMS}
    assert all(item.duty is Duty.HOLIDAY_CARE for item in items)


def test_a_customer_who_becomes_vip_mid_year_gets_the_remaining_occasions_and_none_without_a_birthday() -> None:
    items = holiday_items("C1", year=2027, birthday=None, from_date=date(2027, 9, 1), duties=DUTIES)

    assert [item.occasion for item in sorted(items, key=lambda item: item.due_on)] == [
        "Mid-Autumn 2027", "National Day 2027",
    ]


def test_only_new_policies_issued_within_the_delivery_days_give_a_delivery() -> None:
    policies = [
        PolicyIssue("P-old", date(2020, 1, 1)),
        PolicyIssue("P-known", date(2027, 3, 1)),
        PolicyIssue("P-new", date(2027, 3, 1)),
    ]

    items = delivery_items(
        "C1", policies=policies, known=["P-known"], as_of=date(2027, 3, 5), duties=DUTIES, late_by_at_most=15
    )

    (item,) = items
    assert item.occasion == "policy P-new delivered" and item.channels == {ContactChannel.VISIT}
    assert item.opens_on == date(2027, 3, 1) and item.due_on == date(2027, 3, 11)  # 10 days of issue


@pytest.mark.parametrize(
    ("learned_on", "due_on"),
    [
        (date(2027, 3, 11), date(2027, 3, 11)),  # the last of its days
        (date(2027, 3, 17), date(2027, 3, 27)),  # after its cooling-off: the days from when it was learned
        (date(2027, 3, 26), date(2027, 4, 5)),  # the latest the cooling-off allows
        (date(2027, 3, 27), None),  # later still: an old policy, delivered when issued
    ],
)
def test_a_policy_learned_of_late_is_due_the_ruleset_days_after(learned_on: date, due_on: date | None) -> None:
    items = delivery_items(
        "C1", policies=[PolicyIssue("P1", date(2027, 3, 1))], known=[], as_of=learned_on, duties=DUTIES,
        late_by_at_most=15,
    )

    assert [item.due_on for item in items] == ([due_on] if due_on else [])


def test_a_service_request_gives_a_help_item_due_within_the_ruleset_days() -> None:
    item = help_item("C1", kind="claim", reference="CLM-1", reported_on=date(2027, 4, 1), duties=DUTIES)

    assert item.occasion == "claim CLM-1" and item.occasion_key == "help:claim:CLM-1"
    assert (item.opens_on, item.due_on) == (date(2027, 4, 1), date(2027, 4, 4))


def test_a_campaign_window() -> None:
    start = date(2027, 4, 1)
    assert campaign_window(Duty.NEW_PRODUCT, starts_on=start, due_on=None, duties=DUTIES) == (start, date(2027, 4, 15))
    assert campaign_window(Duty.COMPANY_NEWS, starts_on=start, due_on=date(2027, 4, 2), duties=DUTIES)[1] == date(
        2027, 4, 2
    )
    with pytest.raises(Invalid, match="before starts_on"):
        campaign_window(Duty.COMPANY_NEWS, starts_on=start, due_on=date(2027, 3, 1), duties=DUTIES)
    with pytest.raises(Invalid, match="not holiday_care"):
        campaign_window(Duty.HOLIDAY_CARE, starts_on=start, due_on=None, duties=DUTIES)


def _item(
    duty: Duty = Duty.POLICY_DELIVERY, *, state: ItemState = ItemState.OPEN, done_on: date | None = None
) -> WorkItem:
    return WorkItem(
        item_id=7, customer_id="C1", duty=duty, occasion="policy P1 delivered", opens_on=date(2027, 3, 1),
        due_on=date(2027, 3, 11), channels=DUTIES.rule(duty).channels, agent_id="A1", state=state, done_on=done_on,
    )


TODAY = date(2027, 3, 20)


@pytest.mark.parametrize(
    ("item", "completion", "refusal", "reason"),
    [
        (_item(), Completion(date(2027, 3, 5), ContactChannel.SMS, None), Invalid, "channel_not_allowed"),
        (_item(), Completion(date(2027, 2, 28), ContactChannel.VISIT, None), Invalid, "not_open_yet"),
        (_item(), Completion(date(2027, 3, 21), ContactChannel.VISIT, None), Invalid, "done_in_future"),
        (_item(state=ItemState.DONE, done_on=date(2027, 3, 2)),
         Completion(date(2027, 3, 5), ContactChannel.VISIT, None), Conflict, "already_done"),
        (_item(state=ItemState.CANCELLED), Completion(date(2027, 3, 5), ContactChannel.VISIT, None), Conflict,
         "cancelled"),
    ],
)
def test_a_completion_the_duty_does_not_allow_is_refused(
    item: WorkItem, completion: Completion, refusal: type[Exception], reason: str
) -> None:
    with pytest.raises(refusal) as raised:
        check_completion(item, completion, today=TODAY)
    assert getattr(raised.value, "reason", None) == reason


def test_a_disallowed_channel_is_refused_naming_the_allowed_ones() -> None:
    item = _item(Duty.COMPANY_NEWS)
    with pytest.raises(Invalid, match=r"company_news may not be done by sms: allowed email, wechat"):
        check_completion(item, Completion(date(2027, 3, 5), ContactChannel.SMS, None), today=TODAY)


def test_a_completion_records_who_when_how_and_counts_only_on_time() -> None:
    late = completed(_item(state=ItemState.OVERDUE), Completion(date(2027, 3, 15), ContactChannel.VISIT, "late"))
    in_time = completed(_item(), Completion(date(2027, 3, 11), ContactChannel.VISIT, "bound to WeChat"))

    assert (in_time.state, in_time.done_by_agent, in_time.done_channel) == (ItemState.DONE, "A1", ContactChannel.VISIT)
    assert in_time.on_time and not late.on_time


def test_compliance_counts_each_duty_against_its_minimum() -> None:
    def item(duty: Duty, state: ItemState, done_on: date | None = None) -> WorkItem:
        return WorkItem(
            item_id=1, customer_id="C1", duty=duty, occasion="x", opens_on=date(2027, 1, 1), due_on=date(2027, 6, 1),
            channels=DUTIES.rule(duty).channels, agent_id="A1", state=state, done_on=done_on,
        )

    on_time, late = date(2027, 5, 1), date(2027, 7, 1)
    items = [
        *(item(Duty.HOLIDAY_CARE, ItemState.DONE, on_time) for _ in range(3)),
        item(Duty.HOLIDAY_CARE, ItemState.CANCELLED),
        item(Duty.POLICY_DELIVERY, ItemState.DONE, late),
        item(Duty.COMPANY_NEWS, ItemState.DONE, on_time),
        item(Duty.COMPANY_NEWS, ItemState.OVERDUE),
    ]

    counts = {count.duty: count for count in compliance(items, duties=DUTIES)}

    assert counts[Duty.HOLIDAY_CARE].meets and counts[Duty.HOLIDAY_CARE].items == 3
    assert (counts[Duty.POLICY_DELIVERY].required, counts[Duty.POLICY_DELIVERY].on_time) == (1, 0)
    assert not counts[Duty.POLICY_DELIVERY].meets  # done, but late: does not count
    assert (counts[Duty.COMPANY_NEWS].required, counts[Duty.COMPANY_NEWS].overdue) == (2, 1)
    assert not counts[Duty.COMPANY_NEWS].meets
    assert counts[Duty.ONE_TO_ONE_HELP].meets  # no request reported: nothing owed
    assert not counts[Duty.SERVICE_FESTIVAL].meets  # twice a year, none yet


def _ruleset_text(old: str, new: str) -> str:
    text = DEFAULT_RULESET_PATH.read_text(encoding="utf-8")
    assert old in text
    return text.replace(old, new)


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ("    company_news: {channels: [wechat, email], days_allowed: 7, minimum: 2}\n", "",
         "missing duties: company_news"),
        ("channels: [visit], days_allowed: 3", "channels: [], days_allowed: 3", "at least one channel"),
        ("channels: [visit], days_allowed: 3", "channels: [pigeon], days_allowed: 3", "duties.rules.one_to_one_help"),
        ("days_allowed: 10, minimum: null", "days_allowed: -1, minimum: null", "duties.rules.policy_delivery"),
        ("holiday_occasions: [birthday, spring_festival, mid_autumn, national_day, mothers_day, fathers_day]",
         "holiday_occasions: [birthday, national_day]", "exceeds the number of holiday occasions"),
    ],
)
def test_the_duties_numbers_are_validated_at_start(old: str, new: str, message: str) -> None:
    with pytest.raises(RulesetError, match=message):
        parse_ruleset(_ruleset_text(old, new))

