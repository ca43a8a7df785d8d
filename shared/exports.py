"""Streaming exports: every row of a query as NDJSON, from one consistent snapshot.

`GET /v1/ops/exports/...` endpoints (role `ops`) answer with `application/x-ndjson`. The first line is
a header object, `{"export": NAME, "rows": N}`, then one JSON object per row. Invariants:

- The count and the rows come from one `REPEATABLE READ`, `READ ONLY` transaction: the header's count
  is the number of rows that follow, and the rows are one moment's state even while events keep
  arriving (nothing committed after the export began shows).
- The query renders each row as JSON text and PostgreSQL streams it with `COPY ... TO STDOUT` (CSV
  with a delimiter and a quote character that JSON text never holds raw, so each line is the JSON
  exactly): the service copies bytes, never a row at a time, and its memory stays flat (a bounded
  queue of chunks between the copy and the response) whatever the book's size.
- A stream that ends without the number of rows its header announced was cut short: clients check.
"""

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any

import orjson
from sqlalchemy import TextClause
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.responses import StreamingResponse

NDJSON = "application/x-ndjson"
QUEUED_CHUNKS = 16


async def _copy(driver: Any, *, query: str, into: "asyncio.Queue[bytes | None]") -> None:
    async def sink(chunk: bytes) -> None:
        await into.put(bytes(chunk))

    try:
        await driver.copy_from_query(query, output=sink, format="csv", delimiter="\x01", quote="\x02")
    finally:
        await into.put(None)


async def _rows(*, engine: AsyncEngine, name: str, count: TextClause, rows: TextClause) -> AsyncIterator[bytes]:
    async with engine.connect() as connection:
        snapshot = await connection.execution_options(isolation_level="REPEATABLE READ")
        async with snapshot.begin():
            await snapshot.exec_driver_sql("SET TRANSACTION READ ONLY")
            total = (await snapshot.execute(count)).scalar_one()
            yield orjson.dumps({"export": name, "rows": total}) + b"\n"
            raw = await snapshot.get_raw_connection()
            chunks: asyncio.Queue[bytes | None] = asyncio.Queue(maxsize=QUEUED_CHUNKS)
            copying = asyncio.create_task(_copy(raw.driver_connection, query=str(rows), into=chunks))
            try:
                while (chunk := await chunks.get()) is not None:
                    yield chunk
                await copying
            finally:
                if not copying.done():
                    copying.cancel()
                    with contextlib.suppress(asyncio.CancelledError):
                        await copying


def ndjson_export(*, engine: AsyncEngine, name: str, count: TextClause, rows: TextClause) -> StreamingResponse:
    """`rows` selects one column, each row's JSON text; `count` the number of rows it selects."""
    return StreamingResponse(_rows(engine=engine, name=name, count=count, rows=rows), media_type=NDJSON)
