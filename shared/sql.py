"""Statement helpers that keep one SQL text whatever the number of keys.

`column IN (...)` with an expanding parameter is re-rendered for every list length (and costs about
a tenth of a busy service's CPU); `column = ANY(:keys)` binds one array instead, so the statement is
compiled and prepared once.
"""

from dataclasses import fields
from typing import Any

from sqlalchemy import ARRAY, ColumnElement, any_, bindparam


def any_of(column: ColumnElement[Any], name: str) -> ColumnElement[bool]:
    """`column = ANY(:name)`: pass the keys as a list under `name` when executing."""
    return column == any_(bindparam(name, type_=ARRAY(column.type)))


def row_of(value: Any) -> dict[str, Any]:
    """A dataclass value's fields as a row to insert, one level deep.

    `dataclasses.asdict` deep-copies every field (frozensets, dates, enums): writing a VIP's work items
    through it cost about a fifth of assignment's CPU per event. The values here are immutable, so a
    shallow mapping is the same row.
    """
    return {field.name: getattr(value, field.name) for field in fields(value)}
