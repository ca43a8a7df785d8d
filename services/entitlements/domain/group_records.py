"""The group program's service records (附件三-六), pure: what a record is, how it is checked, and
what complaints and surveys tell tiering (rules.md section 9).

- A survey scores every question of the ruleset's questionnaire 1-5, no more, no less; its average
  is rounded half-up to two places (422 `score_out_of_range`, `unknown_question`, `missing_question`).
- A consultation or complaint resolved before it was received is refused (422 `resolved_before_received`).
- A complaint is **overdue** while unresolved more than `complaint_response_hours` after it was
  received; it was **resolved in time** when resolved within them.
- Feedback for the loyalty coefficient **(interpretation)**: the verified complaints *received* in
  the 12 months up to `as_of` (the day it is reported), and the last survey by date. It is reported
  whenever a complaint or survey is recorded or a complaint resolved or verified.
"""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, Literal

from shared.group_ruleset import GroupRuleset, Question
from shared.refusals import Invalid

RecordKind = Literal["green_channel", "daily_care", "consultation", "complaint", "survey", "service"]
"""`service`: a delivery of a catalog service no form of its own describes (a service visit, a lecture)."""


@dataclass(frozen=True, kw_only=True)
class NewRecord:
    client_id: str
    kind: RecordKind
    service_code: str
    occurred_on: date
    cost: Decimal
    details: Mapping[str, Any]
    recorded_by: str
    received_at: datetime | None = None
    resolved_at: datetime | None = None
    verified: bool | None = None
    average: Decimal | None = None


@dataclass(frozen=True, kw_only=True)
class Feedback:
    as_of: date
    verified_complaints_12_months: int
    last_survey_average: Decimal | None
    last_survey_on: date | None


def survey_average(scores: Mapping[str, int], questionnaire: Iterable[Question]) -> Decimal:
    codes = [question.code for question in questionnaire]
    unknown = sorted(set(scores) - set(codes))
    if unknown:
        raise Invalid(f"not questions of the questionnaire: {', '.join(unknown)}", reason="unknown_question")
    missing = [code for code in codes if code not in scores]
    if missing:
        raise Invalid(f"every question needs a score; missing: {', '.join(missing)}", reason="missing_question")
    outside = sorted(code for code, score in scores.items() if not 1 <= score <= 5)
    if outside:
        raise Invalid(f"a score is 1 to 5; outside: {', '.join(outside)}", reason="score_out_of_range")
    total = Decimal(sum(scores.values())) / Decimal(len(codes))
    return total.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def check_resolution(*, received_at: datetime, resolved_at: datetime | None) -> None:
    if resolved_at is not None and resolved_at < received_at:
        raise Invalid(
            f"resolved at {resolved_at.isoformat()}, before it was received ({received_at.isoformat()})",
            reason="resolved_before_received",
        )


def is_overdue(*, received_at: datetime, resolved_at: datetime | None, now: datetime, ruleset: GroupRuleset) -> bool:
    """Unresolved past the response time (a resolved one is never overdue; see `resolved_in_time`)."""
    return resolved_at is None and now - received_at > timedelta(hours=ruleset.complaint_response_hours)


def resolved_in_time(*, received_at: datetime, resolved_at: datetime | None, ruleset: GroupRuleset) -> bool:
    return resolved_at is not None and resolved_at - received_at <= timedelta(hours=ruleset.complaint_response_hours)


def twelve_months_before(day: date) -> date:
    """The first day of the 12 months ending on `day` (29 February falls back to the 28th)."""
    try:
        start = day.replace(year=day.year - 1)
    except ValueError:
        start = day.replace(year=day.year - 1, day=28)
    return start + timedelta(days=1)


def feedback_of(
    *, complaints: Iterable[tuple[date, bool]], surveys: Iterable[tuple[date, Decimal]], as_of: date
) -> Feedback:
    """`complaints`: (received on, verified); `surveys`: (date, average). Only what is not after `as_of` counts."""
    since = twelve_months_before(as_of)
    verified = sum(1 for received_on, is_verified in complaints if is_verified and since <= received_on <= as_of)
    dated = [(on, average) for on, average in surveys if on <= as_of]
    last = max(dated, default=None)
    return Feedback(
        as_of=as_of, verified_complaints_12_months=verified,
        last_survey_average=last[1] if last else None, last_survey_on=last[0] if last else None,
    )
