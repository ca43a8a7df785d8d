"""`GET /v1/ops/pipeline`: how far this service is behind, and what it has applied and published.

A caller that must not act before the events in flight have landed (`vip daily-run` between two
services' daily runs) asks every service in pipeline order (scoring, tiering, assignment,
entitlements) and goes on once each answers `drained`. The answer is computed on request:

- `partitions`: per partition of every topic the service reads, the group's committed offset (read
  from the broker, whichever member owns the partition) and the partition's end; `lag` their sum of
  differences. An offset is committed only after the event's effects and the events it caused are
  committed in the service's database, so a partition caught up means its events' consequences are
  in this service's outbox or already published.
- `outbox_backlog`: events committed here and not yet acknowledged by the broker. Read after the
  offsets, so an event applied between the two reads is seen in the outbox (or, already published,
  by the next service asked): asked in pipeline order, no event in flight is missed.
- `applied` (per topic and event type) and `published` (per topic): events this process applied for
  the first time and handed to the broker since `counting_since`. The difference of two answers
  tells what changed downstream between them; a new `counting_since` means the process restarted.
"""

import asyncio
import logging
from datetime import datetime
from typing import Annotated, Any

from aiokafka.errors import KafkaError
from fastapi import APIRouter, Depends, Request
from prometheus_client import Counter
from pydantic import BaseModel, Field
from sqlalchemy import func, select

from shared.api import PROBLEMS
from shared.auth import Principal, require_roles
from shared.messaging_tables import OUTBOX
from shared.runtime import ServiceRuntime

log = logging.getLogger(__name__)

router = APIRouter(prefix="/v1/ops", tags=["operations"], responses=PROBLEMS)

OFFSETS_TIMEOUT_S = 5.0


class PartitionLag(BaseModel):
    topic: str
    partition: int
    committed: int = Field(description="the group's committed offset (the first offset if it never committed)")
    end: int = Field(description="the partition's end: the offset the next event will take")
    lag: int = Field(description="events on the partition this service has not applied yet")


class PipelineState(BaseModel):
    service: str
    drained: bool = Field(description="consumer caught up on every partition and the outbox empty")
    lag: int | None = Field(description="events behind, all partitions; null when the broker could not say")
    outbox_backlog: int = Field(description="events committed here, not yet acknowledged by the broker")
    partitions: list[PartitionLag]
    applied: dict[str, dict[str, int]] = Field(description="topic -> event type -> events applied for the first time")
    published: dict[str, int] = Field(description="topic -> events handed to the broker")
    counting_since: datetime = Field(description="when this process started counting `applied` and `published`")


def _counts(counter: Counter) -> list[tuple[dict[str, str], int]]:
    return [
        (sample.labels, int(sample.value))
        for family in counter.collect() for sample in family.samples if sample.name.endswith("_total")
    ]


async def _partition_lags(runtime: ServiceRuntime[Any]) -> list[PartitionLag] | None:
    """None when the consumer has not started, or the broker did not answer in time."""
    if runtime.consumer is None:
        return None
    try:
        async with asyncio.timeout(OFFSETS_TIMEOUT_S):
            offsets = await runtime.consumer.group_offsets()
    except (KafkaError, TimeoutError) as error:
        log.warning("pipeline: consumer offsets unavailable: %r", error)
        return None
    if offsets is None:
        return None
    return [
        PartitionLag(topic=tp.topic, partition=tp.partition, committed=committed, end=end, lag=max(0, end - committed))
        for tp, committed, end in offsets
    ]


@router.get("/pipeline")
async def pipeline_state(
    request: Request, _: Annotated[Principal, Depends(require_roles("ops", "admin"))]
) -> PipelineState:
    """This service's place in the pipeline: lag per consumed partition, outbox backlog, counters."""
    runtime: ServiceRuntime[Any] = request.app.state.runtime
    partitions = await _partition_lags(runtime)
    async with runtime.transactions.engine.connect() as connection:
        backlog = int(await connection.scalar(select(func.count()).select_from(OUTBOX)) or 0)
    applied: dict[str, dict[str, int]] = {}
    for labels, count in _counts(runtime.metrics.events_processed):
        applied.setdefault(labels["topic"], {})[labels["event_type"]] = count
    lag = None if partitions is None else sum(partition.lag for partition in partitions)
    return PipelineState(
        service=runtime.settings.service_name,
        drained=lag == 0 and backlog == 0,
        lag=lag,
        outbox_backlog=backlog,
        partitions=partitions or [],
        applied=applied,
        published={labels["topic"]: count for labels, count in _counts(runtime.metrics.events_published)},
        counting_since=runtime.started_at,
    )
