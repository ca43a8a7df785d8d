"""A customer's score: the sum over the policies held now, the serving channel, and the date scored at.

Invariants:
- A customer's figures are sums of their policies' figures, each already rounded (no rounding here).
- `next_pending_date` is the earliest date a pending policy starts to count (the day after its
  cooling-off's last day): the daily run of that date re-scores the customer, so pending points never
  wait for another event, and never count on a day the policy could still be cancelled.
- The business date a customer is scored at never goes backwards: the later of the event's date,
  the last daily run and the customer's last scoring. A late event can therefore never put back into
  cooling-off a policy that a daily run (or a later event) already counted.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from services.scoring.domain.points import ZERO, PolicyScore
from shared.events.values import Channel

DAILY_RUN_TRIGGER = "daily_run"


@dataclass(frozen=True, slots=True)
class Cause:
    """What made us re-score: an inbound event (its id and type), or the daily run of a date."""

    cause_id: str
    correlation_id: str
    trigger: str
    occurred_at: datetime


def scoring_date(day: date, *not_before: date | None) -> date:
    """`day`, or the latest of `not_before` (the last daily run, the last scoring) when later."""
    return max((day, *(earlier for earlier in not_before if earlier is not None)))


@dataclass(frozen=True, slots=True)
class CustomerScore:
    points: Decimal
    standard_premium: Decimal
    pending_points: Decimal
    serving_channel: Channel | None
    policies: tuple[PolicyScore, ...]
    """Sorted by points descending, then issued_on descending, then policy_no."""
    next_pending_date: date | None
    """The earliest `counts_from`: the day the earliest pending points count, when the daily run must
    look at this customer again (published as `CustomerScored.pending_from`)."""
    legacy_standard_premium_before_cutover: Decimal | None = None
    """The legacy standard premium of the policies as they stood on the day before cutover
    (`domain.cutover`); None when the customer held none then."""


def _display_order(score: PolicyScore) -> tuple[Decimal, int, str]:
    return (-score.points, -score.issued_on.toordinal(), score.policy_no)


def serving_channel_for(policies: Iterable[PolicyScore]) -> Channel | None:
    """The channel with the highest counted points; None when no policy contributes points.

    A tie goes to the channel of the most recently issued policy among the tied channels' contributing
    policies (interpretation); should two of those share the latest issue date, the one with more points,
    then the lowest policy number, decides, so the answer never depends on input order.
    """
    contributing = [score for score in policies if score.state == "counted" and score.points > 0]
    totals: dict[Channel, Decimal] = {}
    for score in contributing:
        totals[score.channel] = totals.get(score.channel, ZERO) + score.points
    if not totals:
        return None
    best = max(totals.values())
    tied = {channel for channel, total in totals.items() if total == best}
    if len(tied) == 1:
        return next(iter(tied))
    candidates = [score for score in contributing if score.channel in tied]
    latest = min(candidates, key=lambda s: (-s.issued_on.toordinal(), -s.points, s.policy_no))
    return latest.channel


def score_customer(
    policies: Iterable[PolicyScore], *, legacy_standard_premium_before_cutover: Decimal | None = None
) -> CustomerScore:
    """Sum of the customer's policies; pass only the policies they currently hold (and the legacy
    figure before cutover, which the policies held now cannot give)."""
    ordered = tuple(sorted(policies, key=_display_order))
    pending_dates = [score.counts_from for score in ordered if score.counts_from is not None]
    return CustomerScore(
        points=sum((score.points for score in ordered), ZERO),
        standard_premium=sum((score.standard_premium for score in ordered), ZERO),
        pending_points=sum((score.pending_points for score in ordered), ZERO),
        serving_channel=serving_channel_for(ordered),
        policies=ordered,
        next_pending_date=min(pending_dates, default=None),
        legacy_standard_premium_before_cutover=legacy_standard_premium_before_cutover,
    )
