"""The customer page's routes (`dashboard/customers.py` gathers and forwards): the page itself, its
data, and the two writes. Every route needs a session holding `call_center` or `ops`; the services
check the user's roles again, with the user's own token."""

from datetime import date
from pathlib import Path
from typing import Annotated

from fastapi import Cookie, FastAPI, Header, Query, Request, status
from fastapi.responses import FileResponse, JSONResponse, RedirectResponse, Response

from dashboard.customers import PAGE_ROLES, CustomerPage, checked_id, idempotency_key_of, not_allowed, refused_input
from dashboard.guards import BodyTooLarge, read_capped_body
from dashboard.problems import problem
from dashboard.sessions import COOKIE, Session, Sessions

WRITE_BODY_MAX_BYTES = 4096


def add_customer_page(app: FastAPI, *, sessions: Sessions, static: Path, headers: dict[str, str]) -> None:
    def allowed(session_id: str | None) -> Session | None:
        session = sessions.get(session_id)
        return session if session is not None and PAGE_ROLES & set(session.principal.roles) else None

    def refusal(session_id: str | None) -> Response:
        if sessions.get(session_id) is None:
            return problem(status=401, title="unauthorized", reason="no_session", detail="log in first")
        return not_allowed()

    @app.get("/customers", response_model=None)
    async def customer_page(session_id: Annotated[str | None, Cookie(alias=COOKIE)] = None) -> Response:
        if allowed(session_id) is None:
            return RedirectResponse("/", status_code=status.HTTP_303_SEE_OTHER)
        return FileResponse(static / "customer.html", headers=headers)

    @app.get("/api/customers/{customer_id}", response_model=None)
    async def customer_data(
        customer_id: str,
        request: Request,
        as_of: Annotated[date | None, Query()] = None,
        session_id: Annotated[str | None, Cookie(alias=COOKIE)] = None,
    ) -> Response:
        session = allowed(session_id)
        if session is None:
            return refusal(session_id)
        if checked_id(customer_id, what="customer id") is None:
            return refused_input("customer_id")
        page: CustomerPage = request.app.state.customer_page
        code, body = await page.build(customer_id, token=session.token, as_of=as_of)
        body["user"] = session.principal.user_id
        body["roles"] = sorted(session.principal.roles)
        return JSONResponse(body, status_code=code, headers={"Cache-Control": "no-store"})

    async def forwarded(
        request: Request, session_id: str | None, path_ids: tuple[str, ...], path: str, key: str | None
    ) -> Response:
        session = allowed(session_id)
        if session is None:
            return refusal(session_id)
        if any(checked_id(part, what="id") is None for part in path_ids):
            return refused_input("path")
        try:
            body = await read_capped_body(request, limit=WRITE_BODY_MAX_BYTES)
        except BodyTooLarge:
            return problem(status=413, title="too large", reason="body_too_large", detail="the request is too large")
        page: CustomerPage = request.app.state.customer_page
        return await page.forward(path, token=session.token, body=body, idempotency_key=key)

    @app.post("/api/customers/{customer_id}/entitlements/{code}/redemptions", response_model=None)
    async def redeem(
        customer_id: str,
        code: str,
        request: Request,
        idempotency_key: Annotated[str | None, Header()] = None,
        session_id: Annotated[str | None, Cookie(alias=COOKIE)] = None,
    ) -> Response:
        key = idempotency_key_of(idempotency_key)
        if key is None:
            return refused_input("idempotency_key")
        return await forwarded(
            request, session_id, (customer_id, code),
            f"/v1/customers/{customer_id}/entitlements/{code}/redemptions", key,
        )

    @app.post("/api/customers/{customer_id}/redemptions/{redemption_id}/reversal", response_model=None)
    async def reverse(
        customer_id: str,
        redemption_id: str,
        request: Request,
        session_id: Annotated[str | None, Cookie(alias=COOKIE)] = None,
    ) -> Response:
        return await forwarded(
            request, session_id, (customer_id, redemption_id),
            f"/v1/customers/{customer_id}/redemptions/{redemption_id}/reversal", None,
        )
