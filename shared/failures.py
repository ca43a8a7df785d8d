"""Telling a passing outage from a poison message.

A transient failure (PostgreSQL restarting, a dropped connection, a deadlock) is retried with
back-off and never commits an offset. Any other failure while applying an event belongs to that
event, which goes to the dead-letter topic so the partition behind it keeps moving.
"""

import asyncio

from sqlalchemy import exc as sa_exc

_TRANSIENT_SQLSTATES = {
    "40001",  # serialization_failure
    "40P01",  # deadlock_detected
    "55P03",  # lock_not_available
    "57P01",  # admin_shutdown
    "57P02",  # crash_shutdown
    "57P03",  # cannot_connect_now
    "53300",  # too_many_connections
}
_TRANSIENT_SQLSTATE_CLASSES = ("08",)  # connection exceptions


def _sqlstate(error: BaseException) -> str | None:
    original = getattr(error, "orig", None)
    for candidate in (original, getattr(original, "__cause__", None), error):
        code = getattr(candidate, "sqlstate", None) or getattr(candidate, "pgcode", None)
        if isinstance(code, str):
            return code
    return None


def _chain(error: BaseException) -> list[BaseException]:
    """The error, what it wraps (`orig`) and what caused either, without repeats."""
    seen: list[BaseException] = []
    pending: list[BaseException | None] = [error]
    while pending:
        candidate = pending.pop()
        if candidate is None or any(candidate is known for known in seen):
            continue
        seen.append(candidate)
        pending.extend([getattr(candidate, "orig", None), candidate.__cause__, candidate.__context__])
    return seen


def _refused_by_the_driver(error: BaseException) -> bool:
    """asyncpg refused a value before sending it (`DataError`, e.g. "value out of int32 range"), which
    SQLAlchemy wraps as an `InterfaceError`: the value's fault, never an outage."""
    return any(
        type(candidate).__name__ == "DataError" or isinstance(candidate, OverflowError)
        for candidate in _chain(error)
    )


def is_transient(error: BaseException) -> bool:
    if _refused_by_the_driver(error):
        return False
    if isinstance(error, OSError | ConnectionError | asyncio.TimeoutError | TimeoutError):
        return True
    if isinstance(error, sa_exc.TimeoutError | sa_exc.InterfaceError):
        return True
    if isinstance(error, sa_exc.DBAPIError):
        if error.connection_invalidated:
            return True
        code = _sqlstate(error)
        if code is not None:
            return code in _TRANSIENT_SQLSTATES or code.startswith(_TRANSIENT_SQLSTATE_CLASSES)
        original = error.orig
        return isinstance(original, OSError | ConnectionError) or "connection" in type(original).__name__.lower()
    name = type(error).__name__
    return name in {"ConnectionDoesNotExistError", "CannotConnectNowError", "InterfaceError"}


_REFUSED_VALUE_SQLSTATES = {
    "22001",  # string_data_right_truncation: longer than the column
    "22003",  # numeric_value_out_of_range
    "22007",  # invalid_datetime_format
    "22008",  # datetime_field_overflow
    "22021",  # character_not_in_repertoire: a NUL character in text
    "22P02",  # invalid_text_representation
    "22P05",  # untranslatable_character: \u0000 in JSON
}


def is_refused_value(error: BaseException) -> bool:
    """PostgreSQL refused a value the request carried (too long, out of range, a NUL character):
    the client's mistake, to be answered 422, not a server error. Raw asyncpg errors count too."""
    return _sqlstate(error) in _REFUSED_VALUE_SQLSTATES or _refused_by_the_driver(error)


def is_too_many_connections(error: BaseException) -> bool:
    """PostgreSQL refused a new connection: `max_connections` is spent (SQLSTATE 53300). Transient for
    the consumer (retried), but an operator must hear of it: the connection budget is overrun
    (docs/deployment.md), which no retry fixes."""
    return any(
        _sqlstate(candidate) == "53300" or "too many connections" in str(candidate).lower()
        for candidate in _chain(error)
    )


def describe(error: BaseException) -> str:
    """A one-line reason for a dead letter or a log line, without a traceback."""
    text = str(getattr(error, "orig", None) or error).strip().splitlines()
    first = text[0] if text else ""
    return f"{type(error).__name__}: {first}"[:500]
