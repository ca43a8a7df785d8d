"""Dead letters over HTTP, from the service's own database (role `ops` or `admin`).

- `GET /v1/ops/dead-letters`: newest first, a page at a time (`before_id`, `limit`), never the whole table;
- `GET /v1/ops/dead-letters/{id}`: one letter with its original headers and value (UTF-8 text, or
  base64 when it is not text);
- `POST /v1/ops/dead-letters/{id}/replays`: publishes the original bytes, key and headers back to
  the source topic **on the source partition** (a producer that hashed keys differently cannot send
  it elsewhere), with a `dlq.replayed_from` header, and counts the replay. The inboxes make a replay
  of an event already applied a no-op. A letter the relay could not publish (stage `publish`) is
  not replayable: the broker refused it for good.
"""

import base64
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request
from pydantic import BaseModel, Field
from sqlalchemy import func, select, update

from shared.auth import Principal, require_roles
from shared.messaging_tables import DEAD_LETTERS
from shared.refusals import Conflict, NotFound

router = APIRouter(prefix="/v1/ops/dead-letters", tags=["operations"])

OpsOrAdmin = Annotated[Principal, Depends(require_roles("ops", "admin"))]
LetterId = Annotated[int, Path(ge=1, le=2**63 - 1)]
REPLAYED_FROM = "dlq.replayed_from"


class DeadLetterSummary(BaseModel):
    id: int
    stage: str
    source_topic: str
    source_partition: int
    source_offset: int
    reason: str
    failed_at: datetime
    size: int
    replays: int
    last_replayed_at: datetime | None


class DeadLetterPage(BaseModel):
    letters: list[DeadLetterSummary]
    next_before_id: int | None
    counts: dict[str, int] | None = Field(
        default=None, description="letters kept per source topic, all pages (only when asked: `counts=true`)"
    )


class DeadLetter(DeadLetterSummary):
    key: str | None
    headers: list[list[str]]
    value: str
    value_encoding: str


class Replayed(BaseModel):
    id: int
    topic: str
    partition: int
    replays: int


_SUMMARY = (
    DEAD_LETTERS.c.id, DEAD_LETTERS.c.stage, DEAD_LETTERS.c.source_topic, DEAD_LETTERS.c.source_partition,
    DEAD_LETTERS.c.source_offset, DEAD_LETTERS.c.reason, DEAD_LETTERS.c.failed_at,
    func.coalesce(func.octet_length(DEAD_LETTERS.c.value), 0).label("size"), DEAD_LETTERS.c.replays,
    DEAD_LETTERS.c.last_replayed_at,
)


@router.get("")
async def list_dead_letters(
    request: Request,
    _: OpsOrAdmin,
    before_id: Annotated[int | None, Query(ge=1, le=2**63 - 1)] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    source_topic: Annotated[str | None, Query(max_length=249)] = None,
    counts: Annotated[bool, Query(description="also count the letters kept per source topic")] = False,
) -> DeadLetterPage:
    """The newest dead letters first; pass `next_before_id` back as `before_id` for the next page."""
    statement = select(*_SUMMARY).order_by(DEAD_LETTERS.c.id.desc()).limit(limit)
    if before_id is not None:
        statement = statement.where(DEAD_LETTERS.c.id < before_id)
    if source_topic is not None:
        statement = statement.where(DEAD_LETTERS.c.source_topic == source_topic)
    async with request.app.state.runtime.transactions.engine.connect() as connection:
        rows = (await connection.execute(statement)).all()
        counted = None
        if counts:
            per_topic = select(DEAD_LETTERS.c.source_topic, func.count()).group_by(DEAD_LETTERS.c.source_topic)
            counted = {str(topic): int(count) for topic, count in (await connection.execute(per_topic)).all()}
    letters = [DeadLetterSummary.model_validate(row._asdict()) for row in rows]
    return DeadLetterPage(
        letters=letters, next_before_id=letters[-1].id if len(letters) == limit else None, counts=counted
    )


async def _letter(request: Request, letter_id: int) -> Any:
    async with request.app.state.runtime.transactions.engine.connect() as connection:
        row = (
            await connection.execute(
                select(*_SUMMARY, DEAD_LETTERS.c.key, DEAD_LETTERS.c.value, DEAD_LETTERS.c.headers)
                .where(DEAD_LETTERS.c.id == letter_id)
            )
        ).one_or_none()
    if row is None:
        raise NotFound(f"dead letter {letter_id} does not exist")
    return row


@router.get("/{letter_id}")
async def show_dead_letter(request: Request, _: OpsOrAdmin, letter_id: LetterId) -> DeadLetter:
    row = await _letter(request, letter_id)
    raw: bytes = row.value or b""
    try:
        value, encoding = raw.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        value, encoding = base64.b64encode(raw).decode("ascii"), "base64"
    fields = {name: getattr(row, name) for name in DeadLetterSummary.model_fields}
    key = row.key.decode("utf-8", "replace") if row.key is not None else None
    return DeadLetter(**fields, key=key, headers=row.headers, value=value, value_encoding=encoding)


@router.post("/{letter_id}/replays")
async def replay_dead_letter(request: Request, _: OpsOrAdmin, letter_id: LetterId) -> Replayed:
    """Back to the source topic and partition, original headers kept, marked as a replay."""
    row = await _letter(request, letter_id)
    if row.stage == "publish":
        raise Conflict(
            f"dead letter {letter_id} is an event the broker refused for good; it cannot be replayed",
            reason="not_replayable",
        )
    headers = [(name, value.encode()) for name, value in row.headers if name != REPLAYED_FROM]
    headers.append((REPLAYED_FROM, f"{row.source_topic}:{row.source_partition}:{row.source_offset}".encode()))
    runtime = request.app.state.runtime
    await runtime.send_raw(
        row.source_topic, value=row.value or b"", key=row.key, headers=headers, partition=row.source_partition
    )
    async with runtime.transactions.engine.begin() as connection:
        replays = await connection.scalar(
            update(DEAD_LETTERS).where(DEAD_LETTERS.c.id == letter_id)
            .values(replays=DEAD_LETTERS.c.replays + 1, last_replayed_at=datetime.now(UTC))
            .returning(DEAD_LETTERS.c.replays)
        )
    return Replayed(id=letter_id, topic=row.source_topic, partition=row.source_partition, replays=int(replays or 0))
