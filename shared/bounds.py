"""Bounds of every route's parameters, in the schema: a value outside them answers 422 before any
code runs, never a 500 from an integer PostgreSQL cannot bind (an offset of 2**63 overflowed the
driver) or date arithmetic past year 9999.

- `Offset`: a page's start, at most `MAX_OFFSET` (nobody pages ten million rows in);
- `PathId`: an identifier in a path, as long as the contracts allow (`shared.events.values.Identifier`);
- `Day`: a date between `EARLIEST_DAY` and `LATEST_DAY`, so `day ± a year` stays a date. Add a
  `Query(...)` for an alias or a description: `Annotated[Day | None, Query(alias="from")]`.
"""

from datetime import date
from typing import Annotated

import annotated_types
from fastapi import Path, Query

MAX_OFFSET = 10_000_000
EARLIEST_DAY = date(1900, 1, 1)
LATEST_DAY = date(9000, 12, 31)
MAX_ID_LENGTH = 64

Offset = Annotated[int, Query(ge=0, le=MAX_OFFSET, description=f"rows to skip, at most {MAX_OFFSET}")]
PathId = Annotated[str, Path(min_length=1, max_length=MAX_ID_LENGTH)]
QueryId = Annotated[str, Query(min_length=1, max_length=MAX_ID_LENGTH)]
Day = Annotated[date, annotated_types.Interval(ge=EARLIEST_DAY, le=LATEST_DAY)]
