"""Value types that the event contracts share: money, identifiers, enumerations.

Money and points are `Decimal` end to end. JSON carries money as a string; a JSON number is refused
because a binary float may already have lost a cent before it reached us.
"""

import re
from decimal import Decimal
from enum import StrEnum
from typing import Annotated, Any

from pydantic import AfterValidator, BeforeValidator, ConfigDict, Field, PlainSerializer, WithJsonSchema

FROZEN = ConfigDict(frozen=True, extra="ignore", str_strip_whitespace=True)

CENT = Decimal("0.01")

MONEY_PATTERN = re.compile(r"-?[0-9]{1,15}(?:\.[0-9]{1,2})?")
"""At most 15 digits before the point and two after, no exponent: what NUMERIC(17, 2) holds."""

INT32_MAX = 2_147_483_647
"""The largest version or revision an INTEGER column holds."""


def shown(value: str, *, limit: int = 24) -> str:
    """A value quoted in a reason, cut short: a reason never echoes hostile input whole."""
    return repr(value) if len(value) <= limit else f"{value[:limit]!r}... ({len(value)} characters)"


def _money_from_string(value: Any) -> Decimal:
    if isinstance(value, Decimal):
        if not value.is_finite() or abs(value) >= Decimal("1e15"):
            raise ValueError("money must be a finite decimal below 10^15")
        return value
    if not isinstance(value, str):
        raise ValueError("money must be a decimal string such as \"36000.00\"")
    if not MONEY_PATTERN.fullmatch(value):
        raise ValueError(
            f"money {shown(value)} is not a decimal string with at most 15 digits before the point "
            "and 2 after (no exponent)"
        )
    return Decimal(value)


def _at_most_two_places(value: Decimal) -> Decimal:
    if not value.is_finite():
        raise ValueError("money must be a finite decimal")
    exponent = value.as_tuple().exponent
    if isinstance(exponent, int) and exponent < -2:
        raise ValueError("money has at most two decimal places")
    if value < 0:
        raise ValueError("money may not be negative")
    return value


Money = Annotated[
    Decimal,
    BeforeValidator(_money_from_string),
    AfterValidator(_at_most_two_places),
    PlainSerializer(lambda value: f"{value:.2f}", return_type=str),
    WithJsonSchema({
        "type": "string", "pattern": r"^[0-9]{1,15}(\.[0-9]{1,2})?$", "examples": ["36000.00"],
        "description": "a non-negative CNY amount as a decimal string, at most two places (a number is refused)",
    }),
]
"""A non-negative CNY amount, at most two places, written as a decimal string."""

Points = Annotated[
    Decimal,
    PlainSerializer(lambda value: f"{value:.2f}", return_type=str),
    WithJsonSchema({"type": "string", "pattern": r"^-?[0-9]+\.[0-9]{2}$", "examples": ["1200.00"],
                    "description": "a decimal string with two places"}),
]
"""Points or standard premium: decimal, two places, written as a decimal string."""

EventId = Annotated[str, Field(min_length=1, max_length=64)]
Identifier = Annotated[str, Field(min_length=1, max_length=64)]


class Channel(StrEnum):
    AGENCY = "agency"
    BANCASSURANCE = "bancassurance"
    BROKERAGE = "brokerage"
    ECOMMERCE = "ecommerce"
    TELESALES = "telesales"
    GROUP = "group"


class PolicyStatus(StrEnum):
    IN_FORCE = "in_force"
    LAPSED = "lapsed"
    SURRENDERED = "surrendered"
    MATURED = "matured"
    TERMINATED = "terminated"
    CANCELLED = "cancelled"


class ProductType(StrEnum):
    PARTICIPATING = "participating"
    TRADITIONAL = "traditional"
    UNIVERSAL = "universal"
    UNIT_LINKED = "unit_linked"


class PaymentMode(StrEnum):
    ANNUAL = "annual"
    SEMIANNUAL = "semiannual"
    QUARTERLY = "quarterly"
    MONTHLY = "monthly"
    SINGLE = "single"


class Tier(StrEnum):
    """VIP tiers in ascending order; `rank` compares them."""

    GOLD = "gold"
    PLATINUM = "platinum"
    DIAMOND = "diamond"

    @property
    def rank(self) -> int:
        return _TIER_RANKS[self]


_TIER_RANKS = {Tier.GOLD: 1, Tier.PLATINUM: 2, Tier.DIAMOND: 3}


class Standard(StrEnum):
    """Which points standard a customer's tier is held against (rules.md section 4)."""

    Y2015 = "2015"
    LEGACY = "legacy"


class AgentRole(StrEnum):
    AGENT = "agent"
    CS_SPECIALIST = "cs_specialist"
    RENEWAL_STAFF = "renewal_staff"
    BACK_OFFICE = "back_office"
