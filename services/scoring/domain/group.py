"""A group client's book (rules.md section 9): the annual standard premium of its in-force group policies.

Pure functions over frozen values: no I/O, no clock, `Decimal` only, every number from a ruleset.
Invariants the tests hold us to:

- Only `channel: group` policies in force count; every other policy of the holder is ignored here,
  just as group policies are excluded from the individual points (`points.exclusion_reason`).
- A policy's annualised premium is its modal premium x the payment mode's multiplier of the
  individual ruleset (one definition of "annualised" for both programs); a waived or reduced
  paid-up policy pays no premium (0). Account-value products use the same annualised premium:
  the group tables give them their own (lower) factor instead of a second base.
- The factor is the group ruleset's for the product type and the largest listed payment term not
  above the policy's (a single premium counts as the individual ruleset's single-premium term);
  a term below every listed one, or a product type without factors, gives 0.
- Each policy's standard premium is rounded half-up to two places before the sum.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from services.scoring.domain.policies import Policy
from shared.events.values import Channel, PaymentMode, PolicyStatus
from shared.group_ruleset import GroupRuleset
from shared.ruleset import Ruleset

ZERO = Decimal("0.00")
_CENT = Decimal("0.01")


@dataclass(frozen=True, slots=True)
class GroupPolicyPremium:
    policy_no: str
    annualised_premium: Decimal
    term_years: int
    listed_term: int | None
    factor: Decimal
    standard_premium: Decimal


@dataclass(frozen=True, slots=True)
class GroupBook:
    """What a client's in-force group policies add up to."""

    annual_standard_premium: Decimal
    in_force_policies: int
    policies: tuple[GroupPolicyPremium, ...]
    """Sorted by policy number."""


def counts_for_the_group_book(policy: Policy) -> bool:
    return policy.channel is Channel.GROUP and policy.status is PolicyStatus.IN_FORCE


def annualised_premium(policy: Policy, *, ruleset: Ruleset) -> Decimal:
    if policy.premium_waived or policy.paid_up:
        return ZERO
    return policy.modal_premium * ruleset.points_2015.annualisation[policy.payment_mode]


def payment_term_years(policy: Policy, *, ruleset: Ruleset) -> int:
    if policy.payment_mode is PaymentMode.SINGLE:
        return ruleset.points_2015.single_premium_term_years
    return policy.payment_term_years


def group_policy_premium(policy: Policy, *, ruleset: Ruleset, group_ruleset: GroupRuleset) -> GroupPolicyPremium:
    """The policy's annual standard premium: annualised premium x the group factor of its type and term."""
    annualised = annualised_premium(policy, ruleset=ruleset)
    term = payment_term_years(policy, ruleset=ruleset)
    factors = group_ruleset.standard_premium_factors.get(policy.product_type, {})
    listed = max((listed for listed in factors if listed <= term), default=None)
    factor = factors[listed] if listed is not None else Decimal(0)
    return GroupPolicyPremium(
        policy_no=policy.policy_no,
        annualised_premium=annualised,
        term_years=term,
        listed_term=listed,
        factor=factor,
        standard_premium=(annualised * factor).quantize(_CENT, rounding=ROUND_HALF_UP),
    )


def group_book(policies: Iterable[Policy], *, ruleset: Ruleset, group_ruleset: GroupRuleset) -> GroupBook:
    """The client's book from every policy it holds (those not counting are left out here)."""
    counted = sorted(
        (
            group_policy_premium(policy, ruleset=ruleset, group_ruleset=group_ruleset)
            for policy in policies
            if counts_for_the_group_book(policy)
        ),
        key=lambda premium: premium.policy_no,
    )
    return GroupBook(
        annual_standard_premium=sum((premium.standard_premium for premium in counted), ZERO),
        in_force_policies=len(counted),
        policies=tuple(counted),
    )


@dataclass(frozen=True, slots=True)
class ReportedExperience:
    """One period's claims experience as the claims system reported it (a later report replaces it)."""

    period_start: date
    period_end: date
    earned_premium: Decimal
    incurred_claims: Decimal


def newest_first(experience: Iterable[ReportedExperience]) -> tuple[ReportedExperience, ...]:
    return tuple(sorted(experience, key=lambda period: (period.period_end, period.period_start), reverse=True))
