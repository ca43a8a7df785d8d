"""The customer as the platform had decided them for a past day (issue 16 item 2). Pure.

**One notion of effective date.** Every fact entitlements keeps has an `effective_on`: the insurer's
local day from the start of which it holds. A tier decision holds from its `effective_at`, a
representative from the `effective_at` of their `RepresentativeChanged`, a value-added period from its
`start_on` (the `effective_at` of the decision that opened it, or the day after the previous period's
end for a roll-over). "As of D" means: the facts effective on or before D.

**Which fact answers for D.** Each kind (tier, representative) keeps every applied event as a history
row with its `revision` and the moment it was `recorded_at`. Each row carries the customer's full state
of that kind, so the answer for D is the row of the highest revision among those effective on or
before D: a later-recorded decision supersedes an earlier one from its own effective date on, even
when it arrived late. Nothing is guessed: before the first such row the customer was not known (None).

**Corrections.** A row recorded after D had ended (in the insurer's zone) that changed what an
earlier-recorded row said for D is a correction: the answer given for D before it arrived was
different. Each one is listed with what it changed (`was` and `now`), so a late event never rewrites
an answer for D without a trace. The first row known for D corrects nothing (before it the answer was
"not known").
"""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import date, datetime
from itertools import pairwise
from typing import Any

from services.entitlements.domain.customers import Customer
from shared.refusals import Invalid
from shared.ruleset import Ruleset

TIER = "tier"
REPRESENTATIVE = "representative"


@dataclass(frozen=True, kw_only=True)
class HistoryRow:
    """One applied event: `state` is the customer's fields of its kind (as `Customer` names them)."""

    kind: str
    revision: int
    effective_on: date
    recorded_at: datetime
    state: Mapping[str, Any]


@dataclass(frozen=True, kw_only=True)
class Correction:
    kind: str
    revision: int
    effective_on: date
    recorded_at: datetime
    changed: Mapping[str, tuple[Any, Any]]
    """field -> (what the answer for the day said before this row, what it says since)."""


@dataclass(frozen=True, kw_only=True)
class CustomerAsOf:
    customer: Customer
    corrections: tuple[Correction, ...]


def check_as_of(as_of: date, *, today: date, ruleset: Ruleset, allow_future: bool) -> None:
    """Refuses a day the platform cannot have decided for: before the ruleset's cutover, or after today
    in the insurer's zone (test environments that run future daily runs lift the second limit)."""
    if as_of < ruleset.cutover_date:
        raise Invalid(
            f"as_of {as_of.isoformat()} is before the ruleset's cutover ({ruleset.cutover_date.isoformat()}): "
            "the platform decided nothing for it",
            reason="as_of_before_cutover",
        )
    if as_of > today and not allow_future:
        raise Invalid(
            f"as_of {as_of.isoformat()} is in the future: the latest day answered is today, {today.isoformat()}",
            reason="as_of_in_future",
        )


def _answers_for(rows: Iterable[HistoryRow], *, day: date) -> list[HistoryRow]:
    """The rows effective on or before `day`, in the order they were applied (by revision)."""
    return sorted((row for row in rows if row.effective_on <= day), key=lambda row: row.revision)


def _corrections(answers: list[HistoryRow], *, day: date, recorded_on: Mapping[int, date]) -> list[Correction]:
    found = []
    for before, after in pairwise(answers):
        if recorded_on[after.revision] <= day:
            continue
        changed = {
            name: (before.state.get(name), value) for name, value in after.state.items()
            if before.state.get(name) != value
        }
        if changed:
            found.append(
                Correction(
                    kind=after.kind, revision=after.revision, effective_on=after.effective_on,
                    recorded_at=after.recorded_at, changed=changed,
                )
            )
    return found


def customer_as_of(
    customer_id: str, *, rows: Iterable[HistoryRow], day: date, ruleset: Ruleset
) -> CustomerAsOf | None:
    """The customer as decided for `day` with its corrections; None when nothing was effective by then.

    `rows` are the customer's history rows of both kinds; their `state` fields replace the defaults
    of a never-seen `Customer` (a customer with a representative but no tier decision yet is known,
    without a tier)."""
    listed = list(rows)
    customer = Customer(customer_id=customer_id)
    corrections: list[Correction] = []
    known = False
    for kind in (TIER, REPRESENTATIVE):
        answers = _answers_for((row for row in listed if row.kind == kind), day=day)
        if not answers:
            continue
        known = True
        customer = replace(customer, **answers[-1].state)
        recorded_on = {row.revision: row.recorded_at.astimezone(ruleset.zone).date() for row in answers}
        corrections += _corrections(answers, day=day, recorded_on=recorded_on)
    if not known:
        return None
    return CustomerAsOf(customer=customer, corrections=tuple(sorted(corrections, key=lambda c: c.recorded_at)))
