"""The bodies of the as-of look-ups (`?as_of=D` on the customer and the entitlement list).

The same body as without `as_of`, plus three additive fields: `as_of` (the day answered),
`corrected` (true when an event recorded after that day changed the answer for it) and
`corrections` (each such event: its kind, revision, effective day, when it was recorded and what it
changed, `{"field": {"was", "now"}}`). Routed from `api/customers.py`, whose hot path does not touch
this module.
"""

from datetime import date
from decimal import Decimal
from enum import Enum
from typing import Any

from fastapi import Request
from pydantic import BaseModel, TypeAdapter, ValidationError

from services.entitlements.domain.as_of import Correction, CustomerAsOf
from services.entitlements.domain.customers import Representative
from shared.bounds import Day
from shared.refusals import Invalid

_DAY: TypeAdapter[date] = TypeAdapter(Day)

AS_OF_PARAMETER = {
    "name": "as_of",
    "in": "query",
    "required": False,
    "schema": {"type": "string", "format": "date"},
    "description": "answer as the platform had decided for this day (not before the ruleset's cutover, "
    "not after today); the body then has `as_of`, `corrected` and `corrections` too",
}


class ChangedField(BaseModel):
    was: Any
    now: Any


class CorrectionView(BaseModel):
    kind: str
    revision: int
    effective_on: date
    recorded_at: str
    changed: dict[str, ChangedField]


def day_of(text: str) -> date:
    """The `as_of` query parameter as a day; 422 `invalid_as_of` when it is not one."""
    try:
        return _DAY.validate_python(text)
    except ValidationError:
        raise Invalid(f"as_of {text[:40]!r} is not a date (YYYY-MM-DD)", reason="invalid_as_of") from None


def json_of(value: Any) -> Any:
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, Decimal):
        return f"{value:.2f}"
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Representative):
        return {"agent_id": value.agent_id, "name": value.name, "channel": value.channel.value}
    return value


def correction_view(correction: Correction) -> dict[str, Any]:
    return {
        "kind": correction.kind,
        "revision": correction.revision,
        "effective_on": correction.effective_on.isoformat(),
        "recorded_at": correction.recorded_at.isoformat(),
        "changed": {
            name: {"was": json_of(was), "now": json_of(now)} for name, (was, now) in correction.changed.items()
        },
    }


def as_of_fields(found: CustomerAsOf, *, as_of: date) -> dict[str, Any]:
    return {
        "as_of": as_of.isoformat(),
        "corrected": bool(found.corrections),
        "corrections": [correction_view(correction) for correction in found.corrections],
    }


def allow_future(request: Request) -> bool:
    """Test environments that run future daily runs may ask about those days too."""
    return bool(request.app.state.runtime.settings.allow_future_daily_run)


class HistoryEntry(BaseModel):
    kind: str
    revision: int
    effective_on: date
    recorded_at: str
    state: dict[str, Any]


class CustomerHistory(BaseModel):
    customer_id: str
    history: list[HistoryEntry]
