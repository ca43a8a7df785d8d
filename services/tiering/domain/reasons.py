"""The human-readable reason stored with every tier decision (rules.md section 4).

It names the standard, the figure held against its thresholds, the threshold reached (or missed),
why that standard applies, any honorary tier, and the trigger, e.g.
"2015 standard: 36,000.00 points >= Gold 30,000 (new_business)".
"""

from datetime import date
from decimal import Decimal

from shared.events.values import Standard, Tier
from shared.ruleset import Ruleset


def explain(
    *,
    standard: Standard,
    points: Decimal,
    computed: Tier | None,
    honorary_tier: Tier | None,
    keeps_legacy: bool,
    held_legacy_at_cutover: bool,
    legacy_source: str,
    previous_standard: Standard | None,
    standard_premium: Decimal | None,
    trigger: str,
    as_of: date,
    ruleset: Ruleset,
) -> str:
    thresholds = ruleset.thresholds[standard]
    unit = "standard premium" if standard is Standard.LEGACY else "points"
    if computed is None:
        comparison = f"< Gold {amount(thresholds.gold)}"
    else:
        comparison = f">= {label(computed)} {amount(thresholds.lower_bound(computed))}"
    parts = [f"{standard.value} standard: {points:,.2f} {unit} {comparison}"]
    if standard_premium is None:
        parts.append("no scored policies")
    legacy_gold = amount(ruleset.thresholds[Standard.LEGACY].gold)
    if as_of < ruleset.cutover_date:
        parts.append(f"everyone is judged on the legacy standard before cutover {ruleset.cutover_date}")
    elif keeps_legacy:
        parts.append(f"legacy standard kept: VIP under it on the day before cutover ({legacy_source})")
    elif held_legacy_at_cutover and previous_standard is Standard.LEGACY:
        fell = f"standard premium {standard_premium:,.2f} < legacy Gold {legacy_gold}"
        parts.append(f"{fell}: moved to the 2015 standard for good")
    elif held_legacy_at_cutover:
        parts.append(f"on the 2015 standard for good since falling below legacy Gold {legacy_gold}")
    elif previous_standard is Standard.LEGACY:
        parts.append(f"the 2015 standard applies from cutover {ruleset.cutover_date}")
    if honorary_tier is not None:
        if computed is None or honorary_tier.rank > computed.rank:
            parts.append(f"honorary {label(honorary_tier)} is higher: {label(honorary_tier)}")
        else:
            parts.append(f"honorary {label(honorary_tier)} is not higher")
    return "; ".join(parts) + f" ({trigger})"


def label(tier: Tier) -> str:
    return tier.value.capitalize()


def amount(threshold: Decimal) -> str:
    """A threshold as people write it: "30,000", or with cents when it has them."""
    if threshold == threshold.to_integral_value():
        return f"{int(threshold):,}"
    return f"{threshold:,.2f}"
