"""The dashboard's web app: a login form, the page, its data as JSON, and the vendored static files."""

import math
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import parse_qs

import httpx
from fastapi import Cookie, FastAPI, HTTPException, Request, status
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles

from dashboard.config import DashboardSettings
from dashboard.customer_routes import add_customer_page
from dashboard.customers import CustomerPage
from dashboard.guards import AttemptLimiter, BodyTooLarge, SameOriginWrites, read_capped_body
from dashboard.overview import Overview
from dashboard.problems import problem
from dashboard.sessions import COOKIE, ROLE, LoginRefused, Session, Sessions
from shared.ruleset import load_ruleset

STATIC = Path(__file__).parent / "static"

_SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}


def _login_page(message: str = "", *, code: int | None = None, headers: dict[str, str] | None = None) -> HTMLResponse:
    """The form, with `message` (our own text, never the client's) above it; 401 when there is one."""
    page = (STATIC / "login.html").read_text(encoding="utf-8")
    notice = f'<p class="error" role="alert">{message}</p>' if message else ""
    if code is None:
        code = status.HTTP_401_UNAUTHORIZED if message else status.HTTP_200_OK
    return HTMLResponse(
        page.replace("<!--notice-->", notice), status_code=code, headers={**_SECURITY_HEADERS, **(headers or {})}
    )


def create_app(settings: DashboardSettings) -> FastAPI:
    sessions = Sessions(api_tokens=settings.api_tokens.get_secret_value(), lifetime_s=settings.session_hours * 3600)
    login_attempts = AttemptLimiter(per_window=settings.login_attempts_per_minute, window_s=60.0)
    ruleset = load_ruleset(settings.ruleset_path)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with httpx.AsyncClient(timeout=5.0) as client:
            app.state.overview = Overview(settings=settings, client=client)
            app.state.customer_page = CustomerPage(urls=settings.service_urls(), client=client, ruleset=ruleset)
            yield

    app = FastAPI(title="VIP operations dashboard", version="1", lifespan=lifespan, docs_url=None, redoc_url=None)
    app.add_middleware(SameOriginWrites)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    add_customer_page(app, sessions=sessions, static=STATIC, headers=_SECURITY_HEADERS)

    def session_of(session_id: str | None) -> Session:
        session = sessions.get(session_id)
        if session is None:
            raise HTTPException(status.HTTP_401_UNAUTHORIZED, detail="log in first")
        return session

    @app.get("/", response_model=None)
    async def page(session_id: Annotated[str | None, Cookie(alias=COOKIE)] = None) -> Response:
        session = sessions.get(session_id)
        if session is None:
            return _login_page()
        if ROLE not in session.principal.roles:  # a call-center user: the customer page is theirs
            return RedirectResponse("/customers", status_code=status.HTTP_303_SEE_OTHER)
        return FileResponse(STATIC / "dashboard.html", headers=_SECURITY_HEADERS)

    @app.post("/login", response_model=None)
    async def login(request: Request) -> Response:
        """The login form, `application/x-www-form-urlencoded` with one field, `token`.

        Attempts are counted per client address before anything is read, so that neither guessing
        tokens nor sending large bodies is cheap.
        """
        client = request.client.host if request.client else "unknown"
        wait_s = login_attempts.retry_after(client)
        if wait_s is not None:
            return _login_page(
                f"Too many login attempts: try again in {math.ceil(wait_s)} s.",
                code=status.HTTP_429_TOO_MANY_REQUESTS, headers={"Retry-After": str(math.ceil(wait_s))},
            )
        try:
            body = await read_capped_body(request, limit=settings.login_body_max_bytes)
        except BodyTooLarge:
            return _login_page("Login refused: the form is too large.", code=status.HTTP_413_CONTENT_TOO_LARGE,
                               headers={"Connection": "close"})
        token = parse_qs(body.decode(errors="replace")).get("token", [""])[0]
        try:
            session_id = sessions.open(token.strip())
        except LoginRefused as refused:
            return _login_page(f"Login refused: {refused}.")
        response = RedirectResponse("/", status_code=status.HTTP_303_SEE_OTHER)
        response.set_cookie(
            COOKIE, session_id, max_age=int(settings.session_hours * 3600), httponly=True, samesite="strict",
            secure=settings.secure_cookies(), path="/",
        )
        return response

    @app.post("/logout")
    async def logout(session_id: Annotated[str | None, Cookie(alias=COOKIE)] = None) -> RedirectResponse:
        sessions.close(session_id)
        response = RedirectResponse("/", status_code=status.HTTP_303_SEE_OTHER)
        response.delete_cookie(COOKIE, path="/")
        return response

    @app.get("/api/overview")
    async def overview(
        request: Request, session_id: Annotated[str | None, Cookie(alias=COOKIE)] = None
    ) -> Any:
        session = session_of(session_id)
        if ROLE not in session.principal.roles:
            return problem(
                status=403, title="forbidden", reason="role_required", detail="the overview needs the role ops"
            )
        built: dict[str, Any] = await request.app.state.overview.build(token=session.token)
        built["user"] = session.principal.user_id
        return built

    @app.get("/favicon.ico", include_in_schema=False)
    async def favicon() -> Response:
        return Response(status_code=status.HTTP_204_NO_CONTENT)

    @app.get("/healthz")
    async def healthz() -> dict[str, str]:
        return {"status": "ok", "service": "dashboard"}

    @app.get("/readyz")
    async def readyz() -> dict[str, str]:
        """Ready once serving: the dashboard shows a source that is away rather than waiting for it."""
        return {"status": "ready"}

    return app
