"""The HTTP app every service serves: its API plus `/healthz`, `/readyz`, `/metrics`.

While PostgreSQL is away, requests answer 503 within the connect timeout instead of hanging.
"""

import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, Request, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from starlette.routing import Match
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from shared import ops
from shared.auth import parse_api_tokens
from shared.failures import describe, is_refused_value, is_transient
from shared.runtime import ServiceRuntime

log = logging.getLogger(__name__)

MAX_BODY_BYTES = 64 * 1024


def _route_template(request: Request) -> str:
    for route in request.app.router.routes:
        match, _ = route.matches(request.scope)
        if match == Match.FULL:
            return str(getattr(route, "path", "unmatched"))
    return "unmatched"


class _StreamedBodyLimit:
    """Caps a request body sent without Content-Length (chunked): 413 as soon as it passes the cap.

    A body with a Content-Length is refused before it is read (in `measure`). A chunked one is read
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
                response = JSONResponse({"detail": f"request body over {self._max_bytes} bytes"}, status_code=413)
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
    app.state.runtime = runtime
    metrics = runtime.metrics

    @app.middleware("http")
    async def measure(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        length = request.headers.get("content-length")
        if length is not None and length.isdigit() and int(length) > MAX_BODY_BYTES:
            return JSONResponse({"detail": f"request body over {MAX_BODY_BYTES} bytes"}, status_code=413)
        started = time.perf_counter()
        route = _route_template(request)
        try:
            response = await call_next(request)
        except Exception as error:
            if is_refused_value(error):
                log.info("request refused, the database cannot store a value: %s", describe(error))
                response = JSONResponse(
                    {"detail": f"a value in the request cannot be stored: {describe(error)}"}, status_code=422
                )
            elif is_transient(error):
                log.warning("request failed, database unavailable: %s", describe(error))
                response = JSONResponse(
                    {"detail": "the service's database is unavailable; try again shortly"}, status_code=503
                )
            else:
                raise
        metrics.http_requests.labels(request.method, route, str(response.status_code)).inc()
        metrics.http_seconds.labels(request.method, route).observe(time.perf_counter() - started)
        return response

    app.include_router(ops.router)

    app.add_middleware(_StreamedBodyLimit, max_bytes=MAX_BODY_BYTES)

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
