"""Statement helpers that keep one SQL text whatever the number of keys.

`column IN (...)` with an expanding parameter is re-rendered for every list length (and costs about
a tenth of a busy service's CPU); `column = ANY(:keys)` binds one array instead, so the statement is
compiled and prepared once.
"""

from typing import Any

from sqlalchemy import ARRAY, ColumnElement, any_, bindparam


def any_of(column: ColumnElement[Any], name: str) -> ColumnElement[bool]:
    """`column = ANY(:name)`: pass the keys as a list under `name` when executing."""
    return column == any_(bindparam(name, type_=ARRAY(column.type)))
