"""Points of one policy on a date (rules.md sections 1-3, and cooling-off of section 4).

Pure functions over frozen values: no I/O, no clock (`as_of` is passed in), `Decimal` only, every
number from the `Ruleset`. Invariants the tests hold us to:

- A policy's points and standard premium are never negative and are rounded half-up to two places,
  per policy, before any sum.
- Only the **main coverage** is ever scored: the `pas.policy-events` contract carries the main
  coverage's premium only, so riders (附加险) cannot reach this module and never count.
- Payouts (annuity, survival benefit, dividend) carry the policy's state after the payout and add
  nothing: there is no payout amount in the formula, only premium (N) and account value (Z).
- A policy is in exactly one state: `counted` (its points count now), `pending` (in_force but still in
  cooling-off: `pending_until` is the cooling-off's last day, on which the policy can still be
  cancelled, and its points count from the day after, `counts_from`) or `excluded` (it earns nothing
  now and will not start to by itself: not in force, group channel, pledged for a loan).
"""

from dataclasses import dataclass, replace
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Literal

from services.scoring.domain.policies import Policy
from shared.events.values import Channel, PaymentMode, PolicyStatus, ProductType
from shared.ruleset import Ruleset

ZERO = Decimal("0.00")
_CENT = Decimal("0.01")
_ACCOUNT_VALUE_PRODUCTS = frozenset({ProductType.UNIVERSAL, ProductType.UNIT_LINKED})

PolicyScoreState = Literal["counted", "pending", "excluded"]


def round_points(value: Decimal) -> Decimal:
    """Half-up to two places: the rounding rules.md prescribes for points and standard premium."""
    return value.quantize(_CENT, rounding=ROUND_HALF_UP)


@dataclass(frozen=True, slots=True)
class PointsBreakdown:
    """How a policy's points and standard premium come out of the formula, for explanations.

    `base` names what the factor multiplies: N (effective annualised main premium, net of the part
    converted to an annuity) or Z (account value). Both standards share the base.
    """

    formula: str
    base: Literal["N", "Z"]
    base_amount: Decimal
    factor: Decimal
    points: Decimal
    legacy_factor: Decimal
    standard_premium: Decimal
    basis_note: str
    legacy_note: str


@dataclass(frozen=True, slots=True)
class PolicyScore:
    policy_no: str
    holder_id: str
    channel: Channel
    branch: str
    agent_id: str | None
    issued_on: date
    state: PolicyScoreState
    points: Decimal
    """2015 points counted now; `ZERO` unless `state == "counted"`."""
    standard_premium: Decimal
    """Legacy standard premium counted now; `ZERO` unless counted."""
    pending_points: Decimal
    """2015 points it will count once cooling-off ends; `ZERO` unless pending."""
    pending_until: date | None
    """`cooling_off_ends_on` while pending (the cooling-off's last day), else None."""
    explanation: str
    breakdown: PointsBreakdown | None = None
    """The formula's parts; None when excluded (nothing was computed)."""

    @property
    def counts_from(self) -> date | None:
        """While pending, the first day its points count: the day after the cooling-off's last day."""
        return self.pending_until + timedelta(days=1) if self.pending_until is not None else None

    @property
    def verdict(self) -> str:
        """`counted`, `pending until DATE, counts from DATE` or `excluded because ...`: the short answer
        for people."""
        if self.state == "pending" and self.pending_until is not None:
            return f"pending until {self.pending_until.isoformat()}, counts from {_day_after(self.pending_until)}"
        if self.state == "excluded":
            return f"excluded because {self.explanation.removeprefix('excluded: ')}"
        return "counted"


def exclusion_reason(policy: Policy, ruleset: Ruleset) -> str | None:
    """Why the policy earns nothing whatever the date, or None when it can count."""
    if policy.status is PolicyStatus.CANCELLED:
        return "cancelled (cooling-off cancellation: pending points removed, nothing granted)"
    if policy.status is not PolicyStatus.IN_FORCE:
        return f"status {policy.status.value} (only in_force policies count)"
    if policy.channel in ruleset.points_2015.excluded_channels:
        return f"{policy.channel.value} channel (belongs to the group program, never individual points)"
    if policy.loan_outstanding > 0:
        return f"pledged for a policy loan ({policy.loan_outstanding:.2f} outstanding)"
    return None


def _day_after(day: date) -> str:
    return (day + timedelta(days=1)).isoformat()


def cooling_off_ends_on(policy: Policy, ruleset: Ruleset) -> date:
    """The cooling-off's LAST day, on which the policy can still be cancelled (犹豫期截止日): the
    policy's own date, or issue date + the ruleset's default days. Its points count from the day after."""
    if policy.cooling_off_ends_on is not None:
        return policy.cooling_off_ends_on
    return policy.issued_on + timedelta(days=ruleset.cooling_off_days)


def _effective_premium(policy: Policy, ruleset: Ruleset) -> tuple[Decimal, str]:
    """N and how it was derived. Waived or reduced paid-up policies pay no premium: N = 0.

    `annuity_converted_premium` is read as an annualised amount, on the same footing as N.
    """
    if policy.premium_waived:
        return ZERO, "N = 0 (premium waived)"
    if policy.paid_up:
        return ZERO, "N = 0 (reduced paid-up)"
    mode = policy.payment_mode
    multiplier = ruleset.points_2015.annualisation[mode]
    annualised = policy.modal_premium * multiplier
    note = f"{policy.modal_premium:.2f} {mode.value} x {multiplier} = {annualised:.2f}"
    converted = policy.annuity_converted_premium
    if converted > 0:
        net = max(annualised - converted, ZERO)
        note = f"{note} - {converted:.2f} converted to annuity = {net:.2f}"
        annualised = net
    return annualised, f"N = {note}"


def _payment_term(policy: Policy, ruleset: Ruleset) -> int:
    """X: the payment term in years; a single premium counts as the ruleset's single-premium term."""
    if policy.payment_mode is PaymentMode.SINGLE:
        return ruleset.points_2015.single_premium_term_years
    return policy.payment_term_years


def legacy_listed_term(term_years: int, ruleset: Ruleset) -> int | None:
    """The largest listed legacy term not above `term_years` (interpretation of rules.md section 3)."""
    return max((term for term in ruleset.legacy.term_factors if term <= term_years), default=None)


def legacy_term_factor(term_years: int, ruleset: Ruleset) -> Decimal:
    """The factor of the largest listed term not above `term_years`; 0 below every listed term."""
    listed = legacy_listed_term(term_years, ruleset)
    return ruleset.legacy.term_factors[listed] if listed is not None else Decimal(0)


def breakdown_for(policy: Policy, ruleset: Ruleset) -> PointsBreakdown:
    """Both standards' formula for the policy, ignoring status, channel, loan and cooling-off."""
    if policy.product_type in _ACCOUNT_VALUE_PRODUCTS:
        z = policy.account_value
        factor = ruleset.points_2015.account_value_factor
        legacy = ruleset.legacy.account_value_factor
        return PointsBreakdown(
            formula=f"{factor} x Z ({policy.product_type.value})",
            base="Z",
            base_amount=z,
            factor=factor,
            points=round_points(factor * z),
            legacy_factor=legacy,
            standard_premium=round_points(legacy * z),
            basis_note=f"Z = account value {z:.2f}",
            legacy_note="legacy factor x Z",
        )
    n, note = _effective_premium(policy, ruleset)
    term = _payment_term(policy, ruleset)
    long_term = ruleset.points_2015.long_term_min_years
    single = " (single premium)" if policy.payment_mode is PaymentMode.SINGLE else ""
    if term >= long_term:
        factor = Decimal(1)
        formula = f"1 x N (X = {term} years >= {long_term})"
    else:
        factor = Decimal(term) / Decimal(long_term)
        formula = f"X/{long_term} x N (X = {term}{single} < {long_term})"
    legacy = legacy_term_factor(term, ruleset)
    listed = legacy_listed_term(term, ruleset)
    legacy_note = (
        f"legacy factor of listed term {listed} (largest not above {term})"
        if listed is not None
        else f"legacy: no listed term at or below {term}"
    )
    return PointsBreakdown(
        formula=formula,
        base="N",
        base_amount=n,
        factor=factor,
        points=round_points(n * term / long_term if term < long_term else n),
        legacy_factor=legacy,
        standard_premium=round_points(legacy * n),
        basis_note=note,
        legacy_note=legacy_note,
    )


def points_for(policy: Policy, ruleset: Ruleset) -> Decimal:
    """2015 points the policy earns once out of cooling-off; 0.00 when excluded."""
    if exclusion_reason(policy, ruleset) is not None:
        return ZERO
    return breakdown_for(policy, ruleset).points


def standard_premium_for(policy: Policy, ruleset: Ruleset) -> Decimal:
    """Legacy standard premium (折标保费) once out of cooling-off; 0.00 when excluded."""
    if exclusion_reason(policy, ruleset) is not None:
        return ZERO
    return breakdown_for(policy, ruleset).standard_premium


def _describe(breakdown: PointsBreakdown) -> str:
    return (
        f"{breakdown.formula}, factor {breakdown.factor.normalize():f}, {breakdown.basis_note}, "
        f"points {breakdown.points:.2f}; {breakdown.legacy_note}: {breakdown.legacy_factor.normalize():f}, "
        f"standard premium {breakdown.standard_premium:.2f}"
    )


def score_policy(policy: Policy, *, ruleset: Ruleset, as_of: date) -> PolicyScore:
    """The policy's state on `as_of`: pending up to `cooling_off_ends_on` (that day included, it can
    still be cancelled), counted from the day after."""
    excluded = PolicyScore(
        policy_no=policy.policy_no,
        holder_id=policy.holder_id,
        channel=policy.channel,
        branch=policy.branch,
        agent_id=policy.agent_id,
        issued_on=policy.issued_on,
        state="excluded",
        points=ZERO,
        standard_premium=ZERO,
        pending_points=ZERO,
        pending_until=None,
        explanation="",
    )
    reason = exclusion_reason(policy, ruleset)
    if reason is not None:
        return replace(excluded, explanation=f"excluded: {reason}")
    breakdown = breakdown_for(policy, ruleset)
    ends_on = cooling_off_ends_on(policy, ruleset)
    if as_of <= ends_on:
        return replace(
            excluded,
            state="pending",
            pending_points=breakdown.points,
            pending_until=ends_on,
            explanation=(
                f"pending until {ends_on.isoformat()} (cooling-off's last day), counts from "
                f"{_day_after(ends_on)}: {_describe(breakdown)}"
            ),
            breakdown=breakdown,
        )
    return replace(
        excluded,
        state="counted",
        points=breakdown.points,
        standard_premium=breakdown.standard_premium,
        explanation=f"counted: {_describe(breakdown)}",
        breakdown=breakdown,
    )
