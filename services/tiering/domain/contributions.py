"""Contribution (保费贡献度) and what follows from it (rules.md section 4): the serving channel, the
customer's branch, and when pending points start to count.

Invariants:
- a policy's contribution is its figure under the customer's standard: 2015 points, or legacy standard
  premium for a customer who keeps the legacy standard. One measure for the serving channel, the
  branch and (in assignment) the representative, so costs and the representative cannot diverge;
- only a counted policy with a contribution above zero is a counting policy; pending and excluded
  policies serve no channel and no branch;
- ties never depend on input order: the most recently issued tied policy decides, then the one with
  the lowest policy number.
"""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Literal

from shared.events.values import Channel, Standard

ZERO = Decimal("0.00")


@dataclass(frozen=True, kw_only=True)
class PolicyShare:
    """What tiering reads of one policy of a score: its figures under both standards and its state."""

    policy_no: str
    channel: Channel
    branch: str
    issued_on: date
    points: Decimal
    standard_premium: Decimal
    state: Literal["counted", "pending", "excluded"]
    pending_until: date | None = None
    """The last day of its cooling-off while pending (its points count from the day after)."""


def contribution_of(policy: PolicyShare, *, standard: Standard) -> Decimal:
    """The policy's figure under `standard`; zero unless it is counted."""
    if policy.state != "counted":
        return ZERO
    return policy.standard_premium if standard is Standard.LEGACY else policy.points


def counting_policies(policies: Iterable[PolicyShare], *, standard: Standard) -> list[PolicyShare]:
    return [policy for policy in policies if contribution_of(policy, standard=standard) > ZERO]


def _latest_first(policy: PolicyShare, *, standard: Standard) -> tuple[int, Decimal, str]:
    """Sort key: the most recently issued first, then the larger contribution, then the policy number."""
    return (-policy.issued_on.toordinal(), -contribution_of(policy, standard=standard), policy.policy_no)


def serving_channel_for(policies: Sequence[PolicyShare], *, standard: Standard) -> Channel | None:
    """The channel whose counting policies contribute most; a tie goes to the channel of the most
    recently issued policy among the tied channels' counting policies (interpretation)."""
    counting = counting_policies(policies, standard=standard)
    totals: dict[Channel, Decimal] = {}
    for policy in counting:
        totals[policy.channel] = totals.get(policy.channel, ZERO) + contribution_of(policy, standard=standard)
    if not totals:
        return None
    best = max(totals.values())
    tied = [policy for policy in counting if totals[policy.channel] == best]
    return min(tied, key=lambda policy: _latest_first(policy, standard=standard)).channel


def main_policy(policies: Sequence[PolicyShare], *, standard: Standard) -> PolicyShare | None:
    """The counting policy with the highest contribution (a tie: the most recently issued)."""
    counting = counting_policies(policies, standard=standard)
    if not counting:
        return None
    best = max(contribution_of(policy, standard=standard) for policy in counting)
    tied = [policy for policy in counting if contribution_of(policy, standard=standard) == best]
    return min(tied, key=lambda policy: _latest_first(policy, standard=standard))


def customer_branch(
    policies: Sequence[PolicyShare], *, standard: Standard, crm_branch: str | None
) -> str | None:
    """The CRM profile's branch when there is one, else the branch of the highest-contribution policy."""
    if crm_branch is not None:
        return crm_branch
    main = main_policy(policies, standard=standard)
    return main.branch if main is not None else None


def pending_from_of(policies: Iterable[PolicyShare]) -> date | None:
    """The first day the earliest pending points count: the day after that policy's cooling-off ends."""
    ends = [policy.pending_until for policy in policies if policy.state == "pending" and policy.pending_until]
    return min(ends) + timedelta(days=1) if ends else None


@dataclass(frozen=True, kw_only=True)
class Filer:
    """The channel and branch that filed an honorary application: they serve an honorary VIP who has
    no counting policy (rules.md section 4)."""

    channel: Channel | None = None
    branch: str | None = None


@dataclass(frozen=True, kw_only=True)
class Serving:
    channel: Channel | None
    branch: str | None


def serving_for(
    policies: Sequence[PolicyShare],
    *,
    standard: Standard,
    crm_branch: str | None,
    honorary_filer: Filer | None,
    scored_channel: Channel | None = None,
) -> Serving:
    """Who serves the customer: the highest-contributing channel and the customer's branch; for an
    honorary VIP (`honorary_filer` set while the grant is active) with no counting policy, the
    filing channel and branch (the CRM branch when the filing named none).

    `scored_channel` stands in when the score carries no policy detail at all.
    """
    channel = serving_channel_for(policies, standard=standard) if policies else scored_channel
    if channel is None and honorary_filer is not None:
        return Serving(channel=honorary_filer.channel, branch=honorary_filer.branch or crm_branch)
    return Serving(channel=channel, branch=customer_branch(policies, standard=standard, crm_branch=crm_branch))
