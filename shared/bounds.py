"""Bounds of every route's parameters, in the schema: a value outside them answers 422 before any
code runs, never a 500 from an integer PostgreSQL cannot bind (an offset of 2**63 overflowed the
driver) or date arithmetic past year 9999.

- `Offset`: a page's start, at most `MAX_OFFSET` (nobody pages ten million rows in);
- `PathId`: an identifier in a path, as long as the contracts allow (`shared.events.values.Identifier`);
- `Day`: a date between `EARLIEST_DAY` and `LATEST_DAY`, so `day ± a year` stays a date. Add a
  `Query(...)` for an alias or a description: `Annotated[Day | None, Query(alias="from")]`.
"""

import re
from datetime import date, datetime
from typing import Annotated

import annotated_types
from fastapi import Path, Query
from pydantic import BeforeValidator, WithJsonSchema

MAX_OFFSET = 10_000_000
EARLIEST_DAY = date(1900, 1, 1)
LATEST_DAY = date(9000, 12, 31)
MAX_ID_LENGTH = 64

Offset = Annotated[int, Query(ge=0, le=MAX_OFFSET, description=f"rows to skip, at most {MAX_OFFSET}")]
PathId = Annotated[
    str, Path(min_length=1, max_length=MAX_ID_LENGTH, description="an identifier, 1 to 64 characters")
]
"""Every identifier in a path: the contracts' `Identifier` bound (a longer one was never issued)."""
QueryId = Annotated[str, Query(min_length=1, max_length=MAX_ID_LENGTH)]
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def _iso_only(value: object) -> object:
    """A number is not a date (pydantic would read 0, or "0.5" in a query, as a Unix time)."""
    if isinstance(value, str) and not _ISO_DATE.match(value.strip()):
        raise ValueError("expected an ISO-8601 date (YYYY-MM-DD) or instant (YYYY-MM-DDTHH:MM:SS+08:00)")
    if not isinstance(value, str | date):
        raise ValueError("expected an ISO-8601 date as a string")
    return value


IsoDate = Annotated[date, BeforeValidator(_iso_only)]
"""A date in a query or a body: `YYYY-MM-DD`, never a number."""
IsoInstant = Annotated[datetime, BeforeValidator(_iso_only)]
"""An instant in a query or a body: ISO-8601, never a number."""


DAY_PATTERN = r"^(19\d{2}|[2-8]\d{3}|9000)-\d{2}-\d{2}$"
"""Years 1900 to 9000 in the schema: a JSON Schema bounds no date, so the bound is the year's digits."""
Day = Annotated[
    IsoDate, annotated_types.Interval(ge=EARLIEST_DAY, le=LATEST_DAY),
    WithJsonSchema({"type": "string", "format": "date", "pattern": DAY_PATTERN}),
]
"""A date in a query: ISO only, and within years 1900 to 9000 so that `day ± a year` stays a date."""
