"""Streaming exports: every row of a query as NDJSON, from one consistent snapshot.

`GET /v1/ops/exports/...` endpoints (role `ops`) answer with `application/x-ndjson`. The first line is
a header object, `{"export": NAME, "rows": N}`, then one JSON object per row. Invariants:

- The count and the rows come from one `REPEATABLE READ`, `READ ONLY` transaction: the header's count
  is the number of rows that follow, and the rows are one moment's state even while events keep
  arriving (nothing committed after the export began shows).
- Rows come from a server-side cursor in partitions, so the service's memory stays flat whatever the
  book's size; the query itself renders each row as JSON text, so the service only joins bytes.
- A stream that ends without the number of rows its header announced was cut short: clients check.
"""

from collections.abc import AsyncIterator

import orjson
from sqlalchemy import TextClause
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.responses import StreamingResponse

NDJSON = "application/x-ndjson"
PARTITION_ROWS = 5_000


async def _rows(*, engine: AsyncEngine, name: str, count: TextClause, rows: TextClause) -> AsyncIterator[bytes]:
    async with engine.connect() as connection:
        snapshot = await connection.execution_options(isolation_level="REPEATABLE READ")
        async with snapshot.begin():
            await snapshot.exec_driver_sql("SET TRANSACTION READ ONLY")
            total = (await snapshot.execute(count)).scalar_one()
            yield orjson.dumps({"export": name, "rows": total}) + b"\n"
            result = await snapshot.stream(rows.execution_options(yield_per=PARTITION_ROWS))
            async for partition in result.partitions(PARTITION_ROWS):
                yield ("\n".join(row[0] for row in partition) + "\n").encode()


def ndjson_export(*, engine: AsyncEngine, name: str, count: TextClause, rows: TextClause) -> StreamingResponse:
    """`rows` selects one column, each row's JSON text; `count` the number of rows it selects."""
    return StreamingResponse(_rows(engine=engine, name=name, count=count, rows=rows), media_type=NDJSON)
