"""Legacy standing from history (rules.md section 4): each policy as it stood on the day before cutover.

A customer VIP under the legacy standard on the day before cutover keeps it. Judged from history,
that is the customer's policies **as they stood that day**: for each policy, the latest version
whose `occurred_at` (local date, in the ruleset's zone) falls on or before cutover - 1, scored with
its cooling-off as of that day. Invariants:

- Independent of arrival order: the version kept for a policy is the highest-versioned one dated
  before cutover among all its events seen so far, whichever came first. An event dated on or after
  cutover never changes it.
- Independent of the policy's current state: an event that is stale for the current state (its
  version is not above the applied one) can still be the version in force before cutover that had
  not arrived yet; it then fills in the pre-cutover state, and nothing else.
- A customer's figure is the legacy standard premium of the pre-cutover versions that name them as
  holder; None when no policy named them then (they held nothing the platform knows of).
"""

from collections.abc import Iterable
from datetime import date, timedelta
from decimal import Decimal

from services.scoring.domain.points import ZERO, score_policy
from services.scoring.domain.policies import Policy, PolicyChange, affected_customers, is_stale
from shared.ruleset import Ruleset


def day_before_cutover(ruleset: Ruleset) -> date:
    """The day legacy standing is judged on: the last day of the legacy standard."""
    return ruleset.cutover_date - timedelta(days=1)


def is_dated_before_cutover(change: PolicyChange, ruleset: Ruleset) -> bool:
    """The change happened on or before the day before cutover, in the insurer's calendar."""
    return change.occurred_at.astimezone(ruleset.zone).date() <= day_before_cutover(ruleset)


def version_before_cutover(change: PolicyChange, *, kept: Policy | None, ruleset: Ruleset) -> Policy | None:
    """The policy's version in force on the day before cutover once `change` is known.

    `kept` is the version kept so far (None if none dated before cutover arrived yet); the change
    replaces it when it is dated before cutover and carries a higher version.
    """
    if not is_dated_before_cutover(change, ruleset):
        return kept
    if kept is not None and change.policy.version <= kept.version:
        return kept
    return change.policy


def legacy_standard_premium_before_cutover(policies: Iterable[Policy], *, ruleset: Ruleset) -> Decimal | None:
    """Sum of the legacy standard premium of `policies` (their pre-cutover versions held by one
    customer), each scored as of the day before cutover; None when there is none."""
    as_of = day_before_cutover(ruleset)
    scores = [score_policy(policy, ruleset=ruleset, as_of=as_of) for policy in policies]
    if not scores:
        return None
    return sum((score.standard_premium for score in scores), ZERO)


def customers_to_rescore(
    change: PolicyChange, *, stored: Policy | None, kept: Policy | None, ruleset: Ruleset
) -> list[str]:
    """Whose published score the change moves, each once.

    An applied change: its holders now and before (`policies.affected_customers`), plus the holder the
    pre-cutover version named when the change replaces that version. A stale change: only the
    pre-cutover holders, old and new, when it replaces the pre-cutover version; else nobody.
    """
    before = version_before_cutover(change, kept=kept, ruleset=ruleset)
    replaced = before != kept
    if is_stale(change, stored=stored):
        if not replaced or before is None:
            return []
        return list(dict.fromkeys(holder for holder in (before.holder_id, kept.holder_id if kept else None) if holder))
    current = affected_customers(change, stored=stored)
    if replaced and kept is not None and kept.holder_id not in current:
        current.append(kept.holder_id)
    return current
