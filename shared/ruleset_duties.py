"""The representative's duties in the ruleset (rules.md section 7): what each duty allows and counts.

Part of `shared.ruleset.Ruleset` (its `duties` section), kept in a module of its own; every number
lives in the ruleset file, validated at start like the rest.
"""

from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

_STRICT = ConfigDict(frozen=True, extra="forbid")


class Duty(StrEnum):
    """The representative's duties toward each VIP (rules.md section 7)."""

    HOLIDAY_CARE = "holiday_care"
    POLICY_DELIVERY = "policy_delivery"
    ONE_TO_ONE_HELP = "one_to_one_help"
    COMPANY_NEWS = "company_news"
    NEW_PRODUCT = "new_product"
    SERVICE_FESTIVAL = "service_festival"


class ContactChannel(StrEnum):
    """How a duty may be done."""

    VISIT = "visit"
    WECHAT = "wechat"
    SMS = "sms"
    EMAIL = "email"
    PHONE = "phone"


class Occasion(StrEnum):
    """The holiday-care occasions of rules.md section 7 (dates: `services.assignment.domain.calendar`)."""

    BIRTHDAY = "birthday"
    SPRING_FESTIVAL = "spring_festival"
    MID_AUTUMN = "mid_autumn"
    NATIONAL_DAY = "national_day"
    MOTHERS_DAY = "mothers_day"
    FATHERS_DAY = "fathers_day"


class DutyRule(BaseModel):
    """One duty's numbers: how it may be done, when its items open and fall due, how many a year count.

    `minimum` None: every item counts on its own (each delivery, each service request within its days).
    An item opens `opens_days_before` its occasion (or event) and is due `days_allowed` after it.
    """

    model_config = _STRICT

    channels: frozenset[ContactChannel]
    days_allowed: int = Field(ge=0)
    opens_days_before: int = Field(default=0, ge=0)
    minimum: int | None = Field(default=None, ge=1)

    @field_validator("channels")
    @classmethod
    def _some_channel(cls, value: frozenset[ContactChannel]) -> frozenset[ContactChannel]:
        if not value:
            raise ValueError("a duty needs at least one channel")
        return value


class Duties(BaseModel):
    """rules.md section 7's duty table: every duty's rule and which holiday occasions are generated."""

    model_config = _STRICT

    rules: dict[Duty, DutyRule]
    holiday_occasions: tuple[Occasion, ...]

    @field_validator("rules")
    @classmethod
    def _every_duty(cls, value: dict[Duty, DutyRule]) -> dict[Duty, DutyRule]:
        missing = sorted(set(Duty) - set(value))
        if missing:
            raise ValueError(f"missing duties: {', '.join(missing)}")
        return value

    @field_validator("holiday_occasions")
    @classmethod
    def _unique_occasions(cls, value: tuple[Occasion, ...]) -> tuple[Occasion, ...]:
        if not value or len(set(value)) != len(value):
            raise ValueError("holiday occasions must be listed, each once")
        return value

    @model_validator(mode="after")
    def _reachable_minimum(self) -> "Duties":
        holiday = self.rules[Duty.HOLIDAY_CARE].minimum
        if holiday is not None and holiday > len(self.holiday_occasions):
            raise ValueError("rules.holiday_care.minimum exceeds the number of holiday occasions")
        return self

    def rule(self, duty: Duty) -> DutyRule:
        return self.rules[duty]
