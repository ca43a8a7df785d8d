"""Statement helpers that keep one SQL text whatever the number of keys or rows.

`column IN (...)` with an expanding parameter is re-rendered for every list length (and costs about
a tenth of a busy service's CPU); `column = ANY(:keys)` binds one array instead, so the statement is
compiled and prepared once.
"""

from collections.abc import Mapping, Sequence
from dataclasses import fields
from decimal import Decimal
from functools import cache
from typing import Any

import orjson
from sqlalchemy import ARRAY, ColumnElement, Table, TextClause, any_, bindparam, text
from sqlalchemy.ext.asyncio import AsyncConnection


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


def quote(name: str) -> str:
    """A quoted SQL identifier (the names come from `tables.py`; quoting keeps any of them literal)."""
    return '"' + name.replace('"', '""') + '"'


def _json_default(value: Any) -> str:
    if isinstance(value, Decimal):
        return str(value)
    raise TypeError(f"{type(value).__name__} is not a column value the rows' JSON carries")


def rows_json(rows: Sequence[Mapping[str, Any]]) -> str:
    """Rows as one JSON array for `jsonb_populate_recordset`: money as decimal strings (exact), dates
    and times in ISO form, JSON columns as they are."""
    return orjson.dumps(rows, default=_json_default, option=orjson.OPT_NON_STR_KEYS).decode()


def insert_rows_text(table: Table, columns: Sequence[str]) -> str:
    """`INSERT INTO table (columns) SELECT columns` from the rows bound as one JSON array (`:rows`,
    `rows_json`), typed by the table's own row type, in the array's order (identity columns number
    them in that order). What `upsert_statement` and `insert_statement` complete with their `ON
    CONFLICT` clause; a repository with its own conflict rule appends that."""
    names = ", ".join(quote(name) for name in columns)
    return (
        f"INSERT INTO {quote(table.name)} ({names}) SELECT {names} "
        f"FROM jsonb_populate_recordset(NULL::{quote(table.name)}, CAST(:rows AS jsonb)) WITH ORDINALITY AS given "
        "ORDER BY given.ordinality"
    )


@cache
def upsert_statement(table: Table, *, columns: tuple[str, ...], key: str, touch_column: str | None) -> TextClause:
    """`INSERT ... SELECT` of the rows bound as one JSON array (`:rows`, `rows_json`), typed by the
    table's own row type, `ON CONFLICT (key) DO UPDATE` every other column (and `touch_column` to now).

    One statement whatever the number of rows: an `executemany` of a one-row upsert is one execution
    per row in PostgreSQL (an executor start each) and a parameter pass per row in the driver; this is
    one execution and one JSON value. The rows' keys must be distinct (one row per key).
    """
    updates = [f"{quote(name)} = excluded.{quote(name)}" for name in columns if name != key]
    if touch_column is not None and touch_column not in columns:
        updates.append(f"{quote(touch_column)} = now()")
    conflict = f"DO UPDATE SET {', '.join(updates)}" if updates else "DO NOTHING"
    return text(f"{insert_rows_text(table, columns)} ON CONFLICT ({quote(key)}) {conflict}")


@cache
def insert_statement(table: Table, *, columns: tuple[str, ...], skip_conflicts: bool = False) -> TextClause:
    """`insert_rows_text`; `skip_conflicts`: `ON CONFLICT DO NOTHING`. One statement whatever the number
    of rows (why: `upsert_statement`)."""
    return text(insert_rows_text(table, columns) + (" ON CONFLICT DO NOTHING" if skip_conflicts else ""))


async def insert_rows(
    connection: AsyncConnection, table: Table, rows: Sequence[Mapping[str, Any]], *, skip_conflicts: bool = False
) -> None:
    """Insert `rows` (each with the same columns) in one statement (`insert_statement`)."""
    if rows:
        statement = insert_statement(table, columns=tuple(rows[0]), skip_conflicts=skip_conflicts)
        await connection.execute(statement, {"rows": rows_json(rows)})
