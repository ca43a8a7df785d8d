"""The group program's ruleset (rules.md section 9): every number of the value score and the service
standards, loaded and validated at start, one file per program and version (`rulesets/group-*.yaml`).

The seed gives the measure's outline and its tables' names (附表1-3), not their numbers: the shipped
file is an EXAMPLE (`example: true`), to be replaced by the insurer's own tables. Validation stops a
service with a message naming the table and the band: bands contiguous from zero, non-overlapping,
ascending; coefficients positive; every service code a level or a record refers to is in the catalog.
Frozen values that pure rules take as an argument; nothing here reads the clock.
"""

import itertools
from collections.abc import Sequence
from decimal import Decimal
from pathlib import Path
from typing import Literal
from zoneinfo import ZoneInfo

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from shared.events.values import ProductType
from shared.ruleset import RulesetError

_STRICT = ConfigDict(frozen=True, extra="forbid")


class Bounded(BaseModel):
    """`from` inclusive, `to` exclusive (None: no upper bound)."""

    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)

    lower: Decimal = Field(alias="from", ge=0)
    upper: Decimal | None = Field(default=None, alias="to")


class Band(Bounded):
    coefficient: Decimal = Field(gt=0)

    def holds(self, figure: Decimal) -> bool:
        return figure >= self.lower and (self.upper is None or figure < self.upper)


def _check_bands(bands: Sequence[Bounded], *, table: str) -> None:
    if not bands:
        raise ValueError(f"{table}: at least one band is needed")
    if bands[0].lower != 0:
        raise ValueError(f"{table}: band 1 must start at 0, not {bands[0].lower}")
    for number, (band, following) in enumerate(itertools.pairwise(bands), start=1):
        if band.upper is None or band.upper <= band.lower:
            raise ValueError(f"{table}: band {number} must end above its start ({band.lower})")
        if following.lower != band.upper:
            kind = "overlap" if following.lower < band.upper else "leave a gap"
            raise ValueError(f"{table}: bands {number} and {number + 1} {kind} ({band.upper} vs {following.lower})")
    if bands[-1].upper is not None:
        raise ValueError(f"{table}: the last band must be open-ended (no `to`)")


def band_for(bands: tuple[Band, ...], figure: Decimal) -> Band:
    """The band holding `figure` (>= 0); the tables are contiguous from zero, so there is one."""
    return next(band for band in bands if band.holds(figure))


class BandTable(BaseModel):
    model_config = _STRICT

    bands: tuple[Band, ...]


class LoyaltyTable(BandTable):
    """附表2: by whole years as a client, then adjusted for complaints and the last survey."""

    complaint_step: Decimal = Field(ge=0, description="minus, per verified complaint in the last 12 months")
    survey_step: Decimal = Field(ge=0, description="plus, when the last survey averages at or above survey_level")
    survey_level: Decimal = Field(ge=1, le=5)
    minimum: Decimal = Field(gt=0)
    maximum: Decimal = Field(gt=0)


class ProfitTable(BandTable):
    """附表3: by loss ratio (incurred claims / earned premium over the last `quarters` reported)."""

    neutral: Decimal = Field(gt=0, description="for a client without experience data")
    quarters: int = Field(ge=1, le=12)


class LevelBand(Bounded):
    level: str | None = Field(description="None: a regular client, not VIP")
    name: str


class GroupService(BaseModel):
    model_config = _STRICT

    code: str = Field(pattern=r"^[a-z][a-z0-9_]{1,63}$")
    name: str = Field(min_length=1)
    yearly: dict[str, int | None] = Field(description="level -> yearly count (None: unlimited); absent: not offered")
    unit_cost: Decimal = Field(ge=0)
    requires_level: bool = True


class Question(BaseModel):
    model_config = _STRICT

    code: str = Field(pattern=r"^[a-z][a-z0-9_]{0,63}$")
    text: str = Field(min_length=1)


class GroupRuleset(BaseModel):
    model_config = _STRICT

    program: Literal["group"]
    version: str = Field(min_length=1)
    example: bool = Field(description="True for the shipped example tables: the seed gives no numbers")
    time_zone: str
    standard_premium_factors: dict[ProductType, dict[int, Decimal]] = Field(
        description="group factor by product type and payment term (largest listed term not above)"
    )
    scale: BandTable
    loyalty: LoyaltyTable
    profit: ProfitTable
    levels: tuple[LevelBand, ...]
    designation_chain: tuple[str, ...] = Field(min_length=1)
    services: tuple[GroupService, ...]
    records: dict[Literal["green_channel", "daily_care", "consultation", "complaint", "survey"], str]
    complaint_response_hours: int = Field(ge=1)
    questionnaire: tuple[Question, ...] = Field(min_length=1)

    @model_validator(mode="after")
    def _consistent(self) -> "GroupRuleset":
        _check_bands(self.scale.bands, table="scale (附表1)")
        _check_bands(self.loyalty.bands, table="loyalty (附表2)")
        _check_bands(self.profit.bands, table="profit (附表3)")
        _check_bands(self.levels, table="levels")
        if self.loyalty.minimum > self.loyalty.maximum:
            raise ValueError("loyalty: minimum above maximum")
        for product, terms in self.standard_premium_factors.items():
            if not terms or min(terms) > 1 or any(factor <= 0 for factor in terms.values()):
                raise ValueError(f"standard_premium_factors.{product}: factors positive, from a 1-year term")
        levels = {band.level for band in self.levels if band.level is not None}
        codes = {service.code for service in self.services}
        for service in self.services:
            unknown = sorted(set(service.yearly) - levels)
            if unknown:
                raise ValueError(f"services.{service.code}: unknown level(s) {', '.join(unknown)}")
        for kind, code in self.records.items():
            if code not in codes:
                raise ValueError(f"records.{kind}: unknown service code {code!r}")
        ZoneInfo(self.time_zone)
        return self

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.time_zone)

    def level_for(self, score: Decimal) -> LevelBand:
        return next(band for band in self.levels if score >= band.lower and (band.upper is None or score < band.upper))

    def level_rank(self, level: str | None) -> int:
        """0 for a regular client; higher levels rank higher (the bands ascend)."""
        ranked = [band.level for band in self.levels]
        return ranked.index(level) if level in ranked else 0

    def service(self, code: str) -> GroupService | None:
        return next((service for service in self.services if service.code == code), None)


def load_group_ruleset(path: Path) -> GroupRuleset:
    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise RulesetError(f"cannot read group ruleset {path}: {error.strerror}") from None
    except yaml.YAMLError as error:
        raise RulesetError(f"{path}: not valid YAML: {error}") from None
    try:
        return GroupRuleset.model_validate(document)
    except ValidationError as error:
        problems = "; ".join(
            f"{'.'.join(str(part) for part in detail['loc']) or '(file)'}: {detail['msg']}" for detail in error.errors()
        )
        raise RulesetError(f"{path}: {problems}") from None
