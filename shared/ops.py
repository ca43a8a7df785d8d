"""Operations endpoints every service serves, for operators and the fault tests.

`GET /v1/ops/inbox`: per consumed topic, how many distinct events this service has applied (inbox
rows, which are committed with the events' effects) and an MD5 digest of their sorted ids. An
operator compares it with what the topic holds; the fault tests compare it with what they published.
"""

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from sqlalchemy import text

from shared.auth import Principal, require_roles

router = APIRouter(prefix="/v1/ops", tags=["operations"])

_INBOX_SUMMARY = text(
    "SELECT topic, count(*) AS events, md5(string_agg(event_id, E'\\n' ORDER BY event_id COLLATE \"C\")) AS digest "
    "FROM inbox GROUP BY topic ORDER BY topic"
)


@router.get("/inbox")
async def inbox_summary(
    request: Request, _: Annotated[Principal, Depends(require_roles("ops", "admin"))]
) -> dict[str, Any]:
    """Applied events per topic: `{topic: {events, digest}}`, the digest over ids sorted by code point."""
    async with request.app.state.runtime.transactions.engine.connect() as connection:
        rows = (await connection.execute(_INBOX_SUMMARY)).all()
    return {"topics": {row.topic: {"events": row.events, "digest": row.digest} for row in rows}}
