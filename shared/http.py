"""The HTTP app every service serves: its API plus `/healthz`, `/readyz`, `/metrics`.

While PostgreSQL is away, requests answer 503 within the connect timeout instead of hanging.
"""

import logging
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from shared import dead_letter_api, ops, ops_logs, pipeline
from shared.audit import AuditTrail, subject_of
from shared.auth import RateLimiter, parse_api_tokens
from shared.failures import describe, is_refused_value, is_transient
from shared.metrics import ServiceMetrics
from shared.problems import install_problem_handlers, problem_response
from shared.runtime import ServiceRuntime

log = logging.getLogger(__name__)

MAX_BODY_BYTES = 64 * 1024


class _StreamedBodyLimit:
    """Caps a request body sent without Content-Length (chunked): 413 as soon as it passes the cap.

    A body with a Content-Length is refused before it is read (in `_Measured`). A chunked one is read
    here, up to the cap, before the route sees it: the route's own body parsing would turn any error
    raised while it reads into a 400. At 64 KiB, holding the body in memory costs nothing.
    """

    def __init__(self, app: ASGIApp, *, max_bytes: int) -> None:
        self._app = app
        self._max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or any(name == b"content-length" for name, _ in scope["headers"]):
            await self._app(scope, receive, send)
            return
        chunks: list[bytes] = []
        received = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            body = message.get("body", b"")
            received += len(body)
            if received > self._max_bytes:
                response = problem_response(status=413, detail=f"request body over {self._max_bytes} bytes")
                await response(scope, receive, send)
                return
            chunks.append(body)
            if not message.get("more_body", False):
                break
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if replayed:
                return await receive()
            replayed = True
            return {"type": "http.request", "body": b"".join(chunks), "more_body": False}

        await self._app(scope, replay, send)


class _Measured:
    """Counts, times and audits every request by route template and status, refuses a declared body over the
    cap (413) before it is read, and turns a database failure into a clear answer: 422 for a value the
    database cannot store, 503 while it is away.

    Plain ASGI on purpose: Starlette's `@app.middleware("http")` runs each request in a task group
    with memory streams, which costs about as much CPU as a whole primary-key look-up
    (bench/lookup.py). The route template is the one the router matched (`scope["route"]`).
    """

    def __init__(self, app: ASGIApp, *, metrics: ServiceMetrics, audit: AuditTrail) -> None:
        self._app = app
        self._metrics = metrics
        self._audit = audit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self._app(scope, receive, send)
            return
        length = Headers(scope=scope).get("content-length")
        if length is not None and length.isdigit() and int(length) > MAX_BODY_BYTES:
            refusal = problem_response(status=413, detail=f"request body over {MAX_BODY_BYTES} bytes")
            await refusal(scope, receive, send)
            return
        started = time.perf_counter()
        status_code = 500
        response_started = False

        async def measured_send(message: Message) -> None:
            nonlocal status_code, response_started
            if message["type"] == "http.response.start":
                status_code, response_started = message["status"], True
            await send(message)

        try:
            await self._app(scope, receive, measured_send)
        except Exception as error:
            if response_started:
                raise
            answer = _answer_for_database_failure(error)
            if answer is None:
                raise
            status_code = answer.status_code
            await answer(scope, receive, send)
        route = str(getattr(scope.get("route"), "path", "unmatched"))
        principal = scope.get("state", {}).get("principal")
        if principal is not None:
            self._audit.record(
                user_id=principal.user_id, method=scope["method"], route=route,
                subject_id=subject_of(scope.get("path_params", {})), status=status_code,
            )
        self._metrics.http_requests.labels(scope["method"], route, str(status_code)).inc()
        self._metrics.http_seconds.labels(scope["method"], route).observe(time.perf_counter() - started)


def _answer_for_database_failure(error: Exception) -> JSONResponse | None:
    if is_refused_value(error):
        log.info("request refused, the database cannot store a value: %s", describe(error))
        return problem_response(
            status=422, detail=f"a value in the request cannot be stored: {describe(error)}", reason="unstorable_value"
        )
    if is_transient(error):
        log.warning("request failed, database unavailable: %s", describe(error))
        return problem_response(status=503, detail="the service's database is unavailable; try again shortly")
    return None


def create_service_app(*, title: str, runtime: ServiceRuntime[Any]) -> FastAPI:
    settings = runtime.settings

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        await runtime.start()
        try:
            yield
        finally:
            await runtime.stop()

    app = FastAPI(title=title, version="1", lifespan=lifespan)
    app.state.principals = parse_api_tokens(settings.api_tokens.get_secret_value())
    app.state.rate_limiter = RateLimiter(rate_per_s=settings.http_rate_per_s, burst=settings.http_rate_burst)
    app.state.runtime = runtime
    metrics = runtime.metrics

    install_problem_handlers(app)
    app.include_router(ops.router)
    app.include_router(pipeline.router)
    app.include_router(dead_letter_api.router)
    app.include_router(ops_logs.router)

    app.add_middleware(_StreamedBodyLimit, max_bytes=MAX_BODY_BYTES)
    app.add_middleware(_Measured, metrics=metrics, audit=runtime.audit)

    @app.get("/healthz", tags=["health"])
    async def healthz() -> dict[str, str]:
        """The process is up and serving HTTP."""
        return {"status": "ok", "service": settings.service_name}

    @app.get("/readyz", tags=["health"], responses={503: {"description": "not ready"}})
    async def readyz() -> JSONResponse:
        """Ready: database reachable, consumer loop and outbox relay running."""
        checks = {
            "database": await runtime.database_reachable(),
            "loops": runtime.loops_running(),
        }
        ready = all(checks.values())
        return JSONResponse(
            {"status": "ready" if ready else "not ready", "checks": checks}, status_code=200 if ready else 503
        )

    @app.get("/metrics", tags=["health"], include_in_schema=False)
    async def prometheus_metrics() -> Response:
        await metrics.refresh_business()
        return Response(generate_latest(metrics.registry), media_type=CONTENT_TYPE_LATEST)

    return app


def serve(*, app: FastAPI, host: str, port: int) -> None:
    """Run one service process: uvloop and httptools, our JSON logs instead of uvicorn's."""
    import uvicorn

    uvicorn.run(app, host=host, port=port, log_config=None, loop="uvloop", http="httptools",
                access_log=False, timeout_graceful_shutdown=10)
