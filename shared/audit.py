"""Who read or changed what: one append-only audit row per authenticated request.

The row names the user (a digest of the token, never the token), the method, the route template,
the customer or client the path names (its id only: no other personal data), the status and the
time. Rows are buffered and written in bulk by one background loop (`COPY`, every
`VIP_AUDIT_FLUSH_S` seconds or sooner when the buffer fills), so the call-center look-up does not
wait for the audit; a crash loses at most that interval. The table refuses UPDATE and DELETE.

The general logs never carry customer ids (tests/unit/test_log_calls.py); this table is the one
place that links a user to the customers they looked at, readable by operations only.
"""

import asyncio
import contextlib
import logging
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncEngine

from shared.failures import describe, is_transient

log = logging.getLogger(__name__)

_SUBJECT_PARAMETERS = ("customer_id", "client_id")
_COLUMNS = ("at", "user_id", "method", "route", "subject_id", "status")


@dataclass(frozen=True, slots=True)
class AuditEntry:
    at: datetime
    user_id: str
    method: str
    route: str
    subject_id: str | None
    status: int


def subject_of(path_parameters: dict[str, object]) -> str | None:
    for name in _SUBJECT_PARAMETERS:
        value = path_parameters.get(name)
        if isinstance(value, str):
            return value[:64]
    return None


class AuditTrail:
    """The buffer and its writer; `record` never blocks and never fails the request."""

    def __init__(self, *, engine: AsyncEngine, flush_s: float, max_buffered: int = 5000) -> None:
        self._engine = engine
        self._flush_s = flush_s
        self._max_buffered = max_buffered
        self._buffer: list[tuple[object, ...]] = []
        self._full = asyncio.Event()

    def record(self, *, user_id: str, method: str, route: str, subject_id: str | None, status: int) -> None:
        self._buffer.append((datetime.now(UTC), user_id, method, route[:200], subject_id, status))
        if len(self._buffer) >= self._max_buffered:
            self._full.set()

    async def run(self) -> None:
        """Writes the buffer until cancelled; an outage keeps the rows for the next round."""
        try:
            while True:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._full.wait(), timeout=self._flush_s)
                await self.flush()
        finally:
            await asyncio.shield(self._final_flush())

    async def _final_flush(self) -> None:
        try:
            await self.flush()
        except Exception as error:
            log.warning("audit rows lost at shutdown: %s", describe(error))

    async def flush(self) -> None:
        self._full.clear()
        if not self._buffer:
            return
        rows, self._buffer = self._buffer, []
        try:
            async with self._engine.connect() as connection:
                raw = await connection.get_raw_connection()
                driver = raw.driver_connection
                assert driver is not None
                await driver.copy_records_to_table("audit_log", records=rows, columns=_COLUMNS)
        except Exception as error:
            if not is_transient(error):
                raise
            self._buffer[:0] = rows
            log.warning("audit rows kept for the next round (%d): %s", len(rows), describe(error))
