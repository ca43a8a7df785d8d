"""The group program's evaluation (rules.md section 9): value score = scale x loyalty x profit, the
level by bands of the score, and the effective level (evaluated, approved, in force).

Pure functions over frozen values: no I/O, no clock (`as_of` is passed), `Decimal` only, every number
from the `GroupRuleset`. Invariants the tests hold us to:

- Each coefficient comes from its banded table (`from` inclusive, `to` exclusive), so a figure on a
  band's edge takes the upper band's coefficient.
- Loyalty: the band of whole years as a client on `as_of` (0 while the CRM has not said since when),
  minus `complaint_step` per verified complaint in the 12 months before (as entitlements last
  reported them), plus `survey_step` when the last survey averages at or above `survey_level`, then
  bounded by `minimum` and `maximum`.
- Profit: loss ratio = incurred / earned over the last `quarters` periods reported that ended on or
  before `as_of`; no such period gives the table's `neutral` value. Periods whose earned premium sums
  to zero: no claims is neutral, claims against nothing fall in the last (worst) band.
- The coefficients and the score are written with 4 places (half-up; the tables' coefficients have
  fewer, so only the score is ever rounded); the level is the score's band (None: a regular client).
- Effective level: none without an in-force group policy; otherwise the higher of the evaluated
  level and an approved designation that has not expired (an approval lapses on its `expires_on`).
"""

from bisect import bisect_right
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from shared.group_ruleset import Band, GroupRuleset, LevelBand

_PLACES = Decimal("0.0001")


@dataclass(frozen=True, slots=True)
class ExperiencePeriod:
    period_start: date
    period_end: date
    earned_premium: Decimal
    incurred_claims: Decimal


@dataclass(frozen=True, slots=True)
class Feedback:
    """What entitlements last reported: verified complaints in the 12 months before its date, last survey."""

    verified_complaints_12_months: int = 0
    last_survey_average: Decimal | None = None
    last_survey_on: date | None = None


@dataclass(frozen=True, slots=True)
class ClientFacts:
    """Everything an evaluation reads about one client."""

    client_id: str
    client_since: date | None
    annual_standard_premium: Decimal
    in_force_policies: int
    experience: tuple[ExperiencePeriod, ...]
    feedback: Feedback


@dataclass(frozen=True, slots=True)
class Inputs:
    annual_standard_premium: Decimal
    years_as_client: int
    loyalty_base: Decimal
    verified_complaints: int
    survey_average: Decimal | None
    loss_ratio: Decimal | None
    earned_premium: Decimal
    incurred_claims: Decimal
    quarters_used: int


@dataclass(frozen=True, slots=True)
class Evaluation:
    client_id: str
    as_of: date
    level: str | None
    score: Decimal
    scale: Decimal
    loyalty: Decimal
    profit: Decimal
    inputs: Inputs
    ruleset_version: str
    reason: str


def whole_years(since: date | None, *, as_of: date) -> int:
    """Completed years from `since` to `as_of` (a 29 February anniversary falls on 28 February)."""
    if since is None or as_of <= since:
        return 0
    years = as_of.year - since.year
    anniversary = (since.month, min(since.day, 28) if since.month == 2 and since.day == 29 else since.day)
    return years - 1 if (as_of.month, as_of.day) < anniversary else years


def _coefficient_of(bands: tuple[Band, ...], figure: Decimal) -> Decimal:
    """The coefficient of the band holding `figure` (as `shared.group_ruleset.band_for`), by bisection
    over the bands' lower bounds: the quarter-end evaluation looks up three tables per client."""
    _, lowers, coefficients = _TABLES.get(id(bands)) or _table(bands)
    return coefficients[bisect_right(lowers, figure) - 1]


_TABLES: dict[int, tuple[tuple[Band, ...], list[Decimal], list[Decimal]]] = {}
"""Lookup tables by the id of the bands they were built from; each keeps its bands alive, so an id is
never reused for other bands while cached (rulesets are loaded once per process)."""


def _table(bands: tuple[Band, ...]) -> tuple[tuple[Band, ...], list[Decimal], list[Decimal]]:
    table = (bands, [band.lower for band in bands], [band.coefficient for band in bands])
    _TABLES[id(bands)] = table
    return table


_LEVELS: dict[int, tuple[tuple[LevelBand, ...], list[Decimal]]] = {}


def _level_band(levels: tuple[LevelBand, ...], score: Decimal) -> LevelBand:
    """`GroupRuleset.level_for`, by bisection (cached as `_TABLES`)."""
    bands, lowers = _LEVELS.setdefault(id(levels), (levels, [band.lower for band in levels]))
    return bands[bisect_right(lowers, score) - 1]


def scale_coefficient(premium: Decimal, *, ruleset: GroupRuleset) -> Decimal:
    return _coefficient_of(ruleset.scale.bands, max(premium, Decimal(0)))


def loyalty_coefficient(
    *, years: int, complaints: int, survey_average: Decimal | None, ruleset: GroupRuleset
) -> tuple[Decimal, Decimal]:
    """(the adjusted and bounded coefficient, the table's base for `years`)."""
    table = ruleset.loyalty
    base = _coefficient_of(table.bands, Decimal(years))
    adjusted = base - table.complaint_step * complaints
    if survey_average is not None and survey_average >= table.survey_level:
        adjusted += table.survey_step
    return min(max(adjusted, table.minimum), table.maximum), base


def recent_periods(
    experience: tuple[ExperiencePeriod, ...], *, as_of: date, quarters: int
) -> tuple[ExperiencePeriod, ...]:
    """The last `quarters` periods reported that ended on or before `as_of`, newest first."""
    ended = sorted((p for p in experience if p.period_end <= as_of), key=lambda p: p.period_end, reverse=True)
    return tuple(ended[:quarters])


def loss_ratio(periods: tuple[ExperiencePeriod, ...]) -> Decimal | None:
    """incurred / earned over the periods; None without data (or with neither premium nor claims)."""
    earned = sum((p.earned_premium for p in periods), Decimal(0))
    incurred = sum((p.incurred_claims for p in periods), Decimal(0))
    if not periods or (earned == 0 and incurred == 0):
        return None
    if earned == 0:
        return Decimal("Infinity")
    return (incurred / earned).quantize(_PLACES, rounding=ROUND_HALF_UP)


def profit_coefficient(ratio: Decimal | None, *, ruleset: GroupRuleset) -> Decimal:
    if ratio is None:
        return ruleset.profit.neutral
    if ratio.is_infinite():
        return ruleset.profit.bands[-1].coefficient
    return _coefficient_of(ruleset.profit.bands, ratio)


def evaluate(facts: ClientFacts, *, as_of: date, ruleset: GroupRuleset) -> Evaluation:
    years = whole_years(facts.client_since, as_of=as_of)
    complaints = facts.feedback.verified_complaints_12_months
    survey = facts.feedback.last_survey_average
    scale = scale_coefficient(facts.annual_standard_premium, ruleset=ruleset)
    loyalty, base = loyalty_coefficient(years=years, complaints=complaints, survey_average=survey, ruleset=ruleset)
    periods = recent_periods(facts.experience, as_of=as_of, quarters=ruleset.profit.quarters)
    ratio = loss_ratio(periods)
    profit = profit_coefficient(ratio, ruleset=ruleset)
    scale, loyalty, profit = (figure.quantize(_PLACES, rounding=ROUND_HALF_UP) for figure in (scale, loyalty, profit))
    score = (scale * loyalty * profit).quantize(_PLACES, rounding=ROUND_HALF_UP)
    band = _level_band(ruleset.levels, score)
    inputs = Inputs(
        annual_standard_premium=facts.annual_standard_premium,
        years_as_client=years,
        loyalty_base=base,
        verified_complaints=complaints,
        survey_average=survey,
        loss_ratio=ratio,
        earned_premium=sum((p.earned_premium for p in periods), Decimal(0)),
        incurred_claims=sum((p.incurred_claims for p in periods), Decimal(0)),
        quarters_used=len(periods),
    )
    return Evaluation(
        client_id=facts.client_id,
        as_of=as_of,
        level=band.level,
        score=score,
        scale=scale,
        loyalty=loyalty,
        profit=profit,
        inputs=inputs,
        ruleset_version=ruleset.version,
        reason=_reason(inputs, scale=scale, loyalty=loyalty, profit=profit, score=score,
                       name=f"{band.level or 'regular client'} ({band.name})", as_of=as_of, ruleset=ruleset),
    )


def _reason(
    inputs: Inputs, *, scale: Decimal, loyalty: Decimal, profit: Decimal, score: Decimal, name: str, as_of: date,
    ruleset: GroupRuleset,
) -> str:
    survey = f"last survey {inputs.survey_average}" if inputs.survey_average is not None else "no survey"
    if inputs.loss_ratio is None:
        experience = "no experience data: neutral"
    else:
        experience = (
            f"loss ratio {inputs.incurred_claims:.2f}/{inputs.earned_premium:.2f} = {inputs.loss_ratio} "
            f"over {inputs.quarters_used} quarter(s)"
        )
    return (
        f"evaluated {as_of.isoformat()} under {ruleset.version}: "
        f"scale {scale} (annual standard premium {inputs.annual_standard_premium:.2f}) x "
        f"loyalty {loyalty} ({inputs.years_as_client} whole year(s): {inputs.loyalty_base}, "
        f"{inputs.verified_complaints} verified complaint(s), {survey}) x "
        f"profit {profit} ({experience}) = {score}: {name}"
    )


# --- the effective level -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Approval:
    """A designation approved through the chain: the level, until `expires_on` (None: no expiry)."""

    level: str
    expires_on: date | None
    application_id: str


def approval_in_force(approval: Approval | None, *, as_of: date) -> Approval | None:
    if approval is None or (approval.expires_on is not None and as_of >= approval.expires_on):
        return None
    return approval


def effective_level(
    *, evaluated: str | None, approved: str | None, in_force_policies: int, ruleset: GroupRuleset
) -> str | None:
    """None without an in-force group policy; else the higher-ranked of evaluated and approved."""
    if in_force_policies == 0:
        return None
    return max((evaluated, approved), key=ruleset.level_rank)


def quarter_end(day: date) -> bool:
    return (day.month, day.day) in {(3, 31), (6, 30), (9, 30), (12, 31)}
