"""The platform's points and tier rules as set-based SQL (DuckDB), written from a `Ruleset`.

This is the vectorised twin of `services.scoring.domain.points.score_policy` (counted points and
standard premium of one policy on a date) and of `Ruleset.tier_for`: the same numbers, from the same
ruleset, over millions of rows at once. `tests/unit/test_simulate_rules_sql.py` holds it to the pure
rule policy by policy (hypothesis), so the two cannot drift apart. Invariants:

- Money is integer cents (`HUGEINT`) from end to end: no binary floating point; a product with a
  factor is rounded half-up to a cent exactly as `round_points` does (`(2v + d) // 2d` for v >= 0).
- Only counted points count: a policy still in cooling-off on `as_of` (before the day after its
  `cooling_off_ends_on`, as the pure rule reads it) or excluded (not in force, an excluded channel,
  pledged for a loan) adds nothing.
- Every number comes from the ruleset; nothing here is a business figure.
"""

import math
from datetime import date
from decimal import Decimal

from shared.events.values import ProductType, Standard, Tier
from shared.ruleset import Ruleset

_ACCOUNT_VALUE_PRODUCTS = (ProductType.UNIVERSAL.value, ProductType.UNIT_LINKED.value)


def _quoted(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _ratio(factor: Decimal) -> tuple[int, int]:
    numerator, denominator = factor.as_integer_ratio()
    return numerator, denominator


def _half_up(cents: str, factor: Decimal) -> str:
    """cents x factor, rounded half-up to a whole cent, in integer arithmetic."""
    numerator, denominator = _ratio(factor)
    if denominator == 1:
        return f"({cents} * {numerator})"
    return f"((2 * {cents} * {numerator} + {denominator}) // {2 * denominator})"


def _cents(column: str) -> str:
    return f"CAST({column} * 100 AS HUGEINT)"


def _term(ruleset: Ruleset) -> str:
    single = ruleset.points_2015.single_premium_term_years
    return f"(CASE WHEN payment_mode = 'single' THEN {single} ELSE payment_term_years END)"


def _premium_cents(ruleset: Ruleset) -> str:
    """N in cents: annualised main premium net of the annuity-converted part; 0 if waived or paid up."""
    multipliers = " ".join(
        f"WHEN {_quoted(mode.value)} THEN {multiplier}"
        for mode, multiplier in ruleset.points_2015.annualisation.items()
    )
    annualised = f"{_cents('modal_premium')} * (CASE payment_mode {multipliers} END)"
    net = f"greatest({annualised} - {_cents('annuity_converted_premium')}, 0)"
    return f"(CASE WHEN premium_waived OR paid_up THEN 0 ELSE {net} END)"


def _excluded(ruleset: Ruleset) -> str:
    channels = ", ".join(_quoted(channel.value) for channel in sorted(ruleset.points_2015.excluded_channels))
    excluded_channel = f" OR channel IN ({channels})" if channels else ""
    return f"(status <> 'in_force'{excluded_channel} OR loan_outstanding > 0)"


def counts_on(ruleset: Ruleset, *, as_of: date) -> str:
    """Whether the policy's points count on `as_of`: not excluded and out of cooling-off."""
    ends_on = f"coalesce(cooling_off_ends_on, issued_on + INTERVAL {ruleset.cooling_off_days} DAY)"
    return f"(NOT {_excluded(ruleset)} AND DATE '{as_of.isoformat()}' >= {ends_on})"


def points_cents(ruleset: Ruleset, *, as_of: date) -> str:
    """2015 points counted on `as_of`, in cents."""
    n = _premium_cents(ruleset)
    term = _term(ruleset)
    long_term = ruleset.points_2015.long_term_min_years
    by_term = f"(CASE WHEN {term} >= {long_term} THEN {n} ELSE (2 * {n} * {term} + {long_term}) // {2 * long_term} END)"
    account = _half_up(_cents("account_value"), ruleset.points_2015.account_value_factor)
    products = ", ".join(_quoted(product) for product in _ACCOUNT_VALUE_PRODUCTS)
    figure = f"(CASE WHEN product_type IN ({products}) THEN {account} ELSE {by_term} END)"
    return f"(CASE WHEN {counts_on(ruleset, as_of=as_of)} THEN {figure} ELSE 0 END)"


def standard_premium_cents(ruleset: Ruleset, *, as_of: date) -> str:
    """Legacy standard premium counted on `as_of`, in cents: the factor of the largest listed term
    not above the payment term, 0 below every listed term."""
    n = _premium_cents(ruleset)
    term = _term(ruleset)
    listed = sorted(ruleset.legacy.term_factors.items(), reverse=True)
    by_term = " ".join(f"WHEN {term} >= {years} THEN {_half_up(n, factor)}" for years, factor in listed)
    account = _half_up(_cents("account_value"), ruleset.legacy.account_value_factor)
    products = ", ".join(_quoted(product) for product in _ACCOUNT_VALUE_PRODUCTS)
    figure = f"(CASE WHEN product_type IN ({products}) THEN {account} {by_term} ELSE 0 END)"
    return f"(CASE WHEN {counts_on(ruleset, as_of=as_of)} THEN {figure} ELSE 0 END)"


def tier_of(figure_cents: str, *, standard: Standard, ruleset: Ruleset) -> str:
    """The highest tier whose inclusive lower bound the figure reaches; NULL below Gold."""
    bounds = ruleset.thresholds[standard]
    cases = " ".join(
        f"WHEN {figure_cents} >= {math.ceil(bounds.lower_bound(tier) * 100)} THEN {_quoted(tier.value)}"
        for tier in sorted(Tier, key=lambda tier: -tier.rank)
    )
    return f"(CASE {cases} END)"


def tier_rank(tier: str) -> str:
    """0 for no tier, then `Tier.rank`."""
    ranks = " ".join(f"WHEN {_quoted(item.value)} THEN {item.rank}" for item in Tier)
    return f"(CASE {tier} {ranks} ELSE 0 END)"
