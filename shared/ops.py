"""Operations endpoints every service serves, for operators and the fault tests.

`GET /v1/ops/inbox`: per consumed topic, how many distinct events this service has applied and
still remembers (inbox rows, committed with the events' effects; rows past the retention are
purged) and an MD5 digest of their ids sorted by code point. An operator compares it with what the
topic holds; the fault tests compare it with what they published. The ids are streamed and hashed
as they come, so memory stays flat whatever the inbox holds; `processed_since` narrows the window.
"""

import hashlib
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel
from sqlalchemy import text

from shared.api import PROBLEMS
from shared.auth import Principal, require_roles
from shared.bounds import IsoInstant

router = APIRouter(prefix="/v1/ops", tags=["operations"], responses=PROBLEMS)

_INBOX_IDS = text(
    "SELECT topic, event_id FROM inbox WHERE processed_at >= :since "
    "ORDER BY topic, event_id COLLATE \"C\""
)


class TopicDigest(BaseModel):
    events: int
    digest: str


class InboxSummary(BaseModel):
    topics: dict[str, TopicDigest]


@router.get("/inbox")
async def inbox_summary(
    request: Request,
    _: Annotated[Principal, Depends(require_roles("ops", "admin"))],
    processed_since: Annotated[
        IsoInstant | None, Query(description="only events applied at or after this instant (ISO-8601 with offset)")
    ] = None,
) -> InboxSummary:
    """Applied events per topic: `{topic: {events, digest}}`, the digest over ids sorted by code point."""
    since = processed_since or datetime.fromisoformat("0001-01-01T00:00:00+00:00")
    topics: dict[str, TopicDigest] = {}
    current: str | None = None
    digest = hashlib.md5(usedforsecurity=False)
    count = 0
    async with request.app.state.runtime.transactions.engine.connect() as connection:
        result = await connection.stream(_INBOX_IDS.execution_options(yield_per=10_000), {"since": since})
        async for topic, event_id in result:
            if topic != current:
                if current is not None:
                    topics[current] = TopicDigest(events=count, digest=digest.hexdigest())
                current, digest, count = topic, hashlib.md5(usedforsecurity=False), 0
            digest.update((b"\n" if count else b"") + event_id.encode())
            count += 1
    if current is not None:
        topics[current] = TopicDigest(events=count, digest=digest.hexdigest())
    return InboxSummary(topics=topics)
