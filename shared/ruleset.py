"""The versioned ruleset file: every number of rules.md, loaded and validated at start.

A bad file stops the service with a message naming the field (`thresholds.2015.gold: ...`), so a
typo never reaches a decision. The models are frozen values that pure rule functions take as an
argument; nothing here reads the clock or the environment.
"""

from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from shared.events.inbound import POLICY_EVENT_TYPES
from shared.events.values import Channel, PaymentMode, Standard, Tier
from shared.ruleset_duties import ContactChannel, Duties, Duty, DutyRule, Occasion

_STRICT = ConfigDict(frozen=True, extra="forbid")

__all__ = ["ContactChannel", "Duties", "Duty", "DutyRule", "Occasion", "Ruleset", "RulesetError", "load_ruleset"]


class RulesetError(ValueError):
    """The ruleset file is missing, unreadable or invalid; the message names the field."""


class Points2015(BaseModel):
    model_config = _STRICT

    long_term_min_years: int = Field(ge=1)
    single_premium_term_years: int = Field(ge=1)
    account_value_factor: Decimal = Field(ge=0)
    excluded_channels: frozenset[Channel]
    annualisation: dict[PaymentMode, int]

    @field_validator("annualisation")
    @classmethod
    def _every_payment_mode(cls, value: dict[PaymentMode, int]) -> dict[PaymentMode, int]:
        missing = sorted(set(PaymentMode) - set(value))
        if missing:
            raise ValueError(f"missing payment modes: {', '.join(missing)}")
        if any(multiplier < 1 for multiplier in value.values()):
            raise ValueError("every multiplier must be at least 1")
        return value


class LegacyFactors(BaseModel):
    model_config = _STRICT

    term_factors: dict[int, Decimal]
    account_value_factor: Decimal = Field(ge=0)

    @field_validator("term_factors")
    @classmethod
    def _ascending_terms(cls, value: dict[int, Decimal]) -> dict[int, Decimal]:
        if not value:
            raise ValueError("at least one payment term is needed")
        if min(value) > 1:
            raise ValueError("a factor for a 1-year term (single premium) is needed")
        if any(factor < 0 for factor in value.values()):
            raise ValueError("factors may not be negative")
        return dict(sorted(value.items()))


class Thresholds(BaseModel):
    """Inclusive lower bounds of each tier."""

    model_config = _STRICT

    gold: Decimal = Field(gt=0)
    platinum: Decimal = Field(gt=0)
    diamond: Decimal = Field(gt=0)

    @model_validator(mode="after")
    def _ascending(self) -> "Thresholds":
        if not self.gold < self.platinum < self.diamond:
            raise ValueError("thresholds must rise: gold < platinum < diamond")
        return self

    def lower_bound(self, tier: Tier) -> Decimal:
        return {Tier.GOLD: self.gold, Tier.PLATINUM: self.platinum, Tier.DIAMOND: self.diamond}[tier]

    def tier_for(self, figure: Decimal) -> Tier | None:
        """The highest tier whose inclusive lower bound `figure` reaches; None below Gold."""
        if figure >= self.diamond:
            return Tier.DIAMOND
        if figure >= self.platinum:
            return Tier.PLATINUM
        return Tier.GOLD if figure >= self.gold else None


TRIGGER_TYPES = frozenset(POLICY_EVENT_TYPES)
"""Every policy event type a trigger list may name (interfaces.md), the reconciliation's included."""

DOWNGRADE_TRIGGERS = frozenset(
    {
        "surrender",
        "partial_surrender",
        "lapse",
        "maturity",
        "annuity_payout",
        "premium_waiver",
        "reduced_paid_up",
        "policyholder_change",
        "cooling_off_cancellation",
        "policy_loan",
        "termination",
        "policy_reconciled",
    }
)
"""rules.md section 4's downgrade triggers, for a ruleset file that does not list its own."""


class ServiceDefinition(BaseModel):
    """One service of the catalog (rules.md section 6)."""

    model_config = _STRICT

    code: str = Field(pattern=r"^[a-z][a-z0-9_]{1,63}$")
    name: str = Field(min_length=1)
    name_zh: str = Field(min_length=1)
    category: Literal["basic", "value_added"]
    tiers: frozenset[Tier]
    yearly_quota: int | None = Field(default=None, ge=1)

    @model_validator(mode="after")
    def _basic_has_no_quota(self) -> "ServiceDefinition":
        if self.category == "basic" and self.yearly_quota is not None:
            raise ValueError("basic services are unlimited: yearly_quota must be null")
        if not self.tiers:
            raise ValueError("a service needs at least one tier")
        return self


class Ruleset(BaseModel):
    model_config = _STRICT

    program: Literal["individual"]
    version: str = Field(min_length=1)
    time_zone: str
    cutover_date: date
    cooling_off_days: int = Field(ge=0)
    value_added_period_months: int = Field(ge=1)
    redemption_reversal_days: int = Field(ge=0)
    """A redemption may be reversed up to this many days after the day it was made, that day included."""
    points_2015: Points2015
    legacy: LegacyFactors
    thresholds: dict[Standard, Thresholds]
    downgrade_triggers: frozenset[str] = DOWNGRADE_TRIGGERS
    """The event types that can end a customer's legacy standing (rules.md section 4): only an event
    of one of these types that leaves them below legacy Gold does."""
    services: tuple[ServiceDefinition, ...]
    duties: Duties

    @field_validator("time_zone")
    @classmethod
    def _known_time_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {value!r}") from None
        return value

    @field_validator("thresholds")
    @classmethod
    def _both_standards(cls, value: dict[Standard, Thresholds]) -> dict[Standard, Thresholds]:
        missing = sorted(set(Standard) - set(value))
        if missing:
            raise ValueError(f"missing thresholds for standard(s): {', '.join(missing)}")
        return value

    @field_validator("downgrade_triggers")
    @classmethod
    def _known_triggers(cls, value: frozenset[str]) -> frozenset[str]:
        unknown = sorted(value - TRIGGER_TYPES)
        if unknown:
            raise ValueError(f"unknown policy event type(s): {', '.join(unknown)}")
        if not value:
            raise ValueError("at least one downgrade trigger is needed")
        return value

    @field_validator("services")
    @classmethod
    def _unique_codes(cls, value: tuple[ServiceDefinition, ...]) -> tuple[ServiceDefinition, ...]:
        codes = [service.code for service in value]
        repeated = sorted({code for code in codes if codes.count(code) > 1})
        if repeated:
            raise ValueError(f"service codes repeat: {', '.join(repeated)}")
        return value

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.time_zone)

    def tier_for(self, figure: Decimal, *, standard: Standard) -> Tier | None:
        """The tier `figure` (2015 points, or legacy standard premium) reaches under `standard`."""
        return self.thresholds[standard].tier_for(figure)

    def service(self, code: str) -> ServiceDefinition | None:
        return next((service for service in self.services if service.code == code), None)


def _field_path(location: tuple[int | str, ...]) -> str:
    return ".".join(str(part) for part in location) or "(file)"


def parse_ruleset(text: str, *, source: str = "ruleset") -> Ruleset:
    try:
        document = yaml.safe_load(text)
    except yaml.YAMLError as error:
        raise RulesetError(f"{source}: not valid YAML: {error}") from None
    if not isinstance(document, dict):
        raise RulesetError(f"{source}: expected a mapping at the top level")
    try:
        return Ruleset.model_validate(document)
    except ValidationError as error:
        problems = "; ".join(
            f"{_field_path(detail['loc'])}: {detail['msg']}" for detail in error.errors()
        )
        raise RulesetError(f"{source}: {problems}") from None


def load_ruleset(path: Path) -> Ruleset:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise RulesetError(f"cannot read ruleset {path}: {error.strerror}") from None
    return parse_ruleset(text, source=str(path))
