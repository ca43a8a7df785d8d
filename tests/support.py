"""Helpers the integration and end-to-end tests share: run a service, publish, read topics, wait."""

import asyncio
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any, TypeVar

import httpx
import orjson
import uvicorn
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from fastapi import FastAPI

from cli.launch import free_port
from shared.auth import ROLES

T = TypeVar("T")


def tokens_setting(tokens: Mapping[str, str]) -> str:
    """The VIP_API_TOKENS value for a role -> token mapping (`dev` gets every role)."""
    return ",".join(
        f"{token}={'+'.join(sorted(ROLES)) if role == 'dev' else role}" for role, token in tokens.items()
    )


def service_settings(settings_class: type[T], *, database_url: str, bootstrap_servers: str,
                     tokens: Mapping[str, str], **overrides: Any) -> T:
    return settings_class(  # type: ignore[call-arg]
        database_url=database_url,
        kafka_bootstrap_servers=bootstrap_servers,
        kafka_idempotence=False,
        http_port=free_port(),
        api_tokens=tokens_setting(tokens),
        log_json=False,
        consumer_group=f"test-{uuid.uuid4().hex[:8]}",
        kafka_session_timeout_ms=2_000,
        kafka_heartbeat_interval_ms=500,
        **overrides,
    )


@asynccontextmanager
async def running(app: FastAPI, *, port: int) -> AsyncIterator[httpx.AsyncClient]:
    """Serve `app` over real HTTP on 127.0.0.1:`port` (lifespan included) and give a client for it."""
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_config=None, lifespan="on"))
    task = asyncio.create_task(server.serve())
    deadline = time.monotonic() + 30
    while not server.started:
        if task.done():
            task.result()
            raise RuntimeError("the service stopped while starting")
        if time.monotonic() > deadline:
            raise TimeoutError("the service did not start within 30 s")
        await asyncio.sleep(0.05)
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=10) as client:
            yield client
    finally:
        server.should_exit = True
        await task


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def publish(
    bootstrap_servers: str, topic: str, messages: Iterable[tuple[str | None, bytes | dict[str, Any]]]
) -> None:
    """Send (key, value) pairs; a dict value is sent as JSON, bytes as they are."""
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap_servers, acks="all", linger_ms=2)
    await producer.start()
    try:
        futures = [
            await producer.send(
                topic,
                key=key.encode() if key else None,
                value=value if isinstance(value, bytes) else orjson.dumps(value),
            )
            for key, value in messages
        ]
        for future in futures:
            await future
    finally:
        await producer.stop()


@dataclass(frozen=True)
class Record:
    key: bytes | None
    value: bytes
    headers: dict[str, bytes]

    def json(self) -> Any:
        return orjson.loads(self.value)


async def read_topic(bootstrap_servers: str, topic: str, *, expect: int, timeout_s: float = 20) -> list[Record]:
    """Read a topic from the start until `expect` records arrived (or the timeout: then what came)."""
    consumer = AIOKafkaConsumer(
        topic, bootstrap_servers=bootstrap_servers, group_id=None, auto_offset_reset="earliest",
        enable_auto_commit=False, fetch_max_wait_ms=20,
    )
    await consumer.start()
    records: list[Record] = []
    try:
        deadline = time.monotonic() + timeout_s
        while len(records) < expect and time.monotonic() < deadline:
            batch = await consumer.getmany(timeout_ms=200)
            for partition_records in batch.values():
                records.extend(
                    Record(record.key, record.value, {name: value for name, value in record.headers})
                    for record in partition_records
                )
    finally:
        await consumer.stop()
    return records


async def eventually(check: Callable[[], Awaitable[T | None]], *, timeout_s: float = 20, what: str = "") -> T:
    """Poll `check` until it returns something other than None/False."""
    deadline = time.monotonic() + timeout_s
    last: T | None = None
    while time.monotonic() < deadline:
        last = await check()
        if last is not None and last is not False:
            return last
        await asyncio.sleep(0.1)
    raise AssertionError(f"timed out after {timeout_s}s waiting for {what or check}; last value {last!r}")


def fresh_id(prefix: str) -> str:
    return f"{prefix}{uuid.uuid4().hex[:10].upper()}"
