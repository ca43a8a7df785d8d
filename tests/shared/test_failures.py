"""A value the database or the driver refuses is the value's fault, never an outage to retry forever."""

import asyncpg  # type: ignore[import-untyped]
from aiokafka.errors import KafkaConnectionError, MessageSizeTooLargeError, RequestTimedOutError
from sqlalchemy import exc as sa_exc

from shared.dead_letters import is_refused_for_good
from shared.failures import is_refused_value, is_transient


def _wrapped_driver_data_error() -> sa_exc.InterfaceError:
    original = asyncpg.exceptions._base.DataError(
        "invalid input for query argument $1: 2147483648 (value out of int32 range)"
    )
    return sa_exc.InterfaceError("INSERT ...", {}, original)


def test_a_driver_data_error_wrapped_as_interface_error_is_not_transient() -> None:
    error = _wrapped_driver_data_error()
    assert not is_transient(error)
    assert is_refused_value(error)


def test_an_overflow_is_a_refused_value() -> None:
    assert is_refused_value(OverflowError("int too big to convert"))
    assert not is_transient(OverflowError("int too big to convert"))


def test_a_dropped_connection_is_still_transient() -> None:
    assert is_transient(sa_exc.InterfaceError("SELECT 1", {}, ConnectionResetError("reset")))
    assert is_transient(ConnectionRefusedError())


def test_the_broker_refusing_a_message_for_good_is_not_retried() -> None:
    assert is_refused_for_good(MessageSizeTooLargeError())
    assert not is_refused_for_good(KafkaConnectionError())
    assert not is_refused_for_good(RequestTimedOutError())
