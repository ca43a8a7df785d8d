"""One error body for every service: RFC 9457 problem details (`application/problem+json`).

    {"type": "about:blank", "title": "conflict", "status": 409,
     "detail": "application 12 is approved: it takes no more decisions", "reason": "closed"}

`detail` is always a human sentence; `reason` a machine-readable code (for a validation error,
`invalid`, with the field-level `errors` beside it). Installed once, by the shared app factory, for
`Refused`, FastAPI's `HTTPException` (auth, 404 of unknown routes) and request validation errors.
"""

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict
from starlette.exceptions import HTTPException as StarletteHTTPException

from shared.refusals import Refused

PROBLEM_MEDIA_TYPE = "application/problem+json"

_TITLES = {400: "bad request", 401: "unauthorized", 403: "forbidden", 404: "not found", 405: "method not allowed",
           409: "conflict", 413: "request too large", 422: "invalid request", 429: "too many requests",
           503: "unavailable"}
_REASONS = {400: "bad_request", 401: "unauthenticated", 403: "forbidden", 404: "not_found",
            405: "method_not_allowed", 409: "conflict", 413: "too_large", 422: "invalid", 429: "rate_limited",
            503: "unavailable"}


class Problem(BaseModel):
    """The body of every error answer (RFC 9457), documented on every operation."""

    model_config = ConfigDict(extra="allow")

    type: str = "about:blank"
    title: str
    status: int
    detail: str
    reason: str


def problem_response(
    *, status: int, detail: str, reason: str | None = None, headers: dict[str, str] | None = None, **extra: Any
) -> JSONResponse:
    body = {
        "type": "about:blank",
        "title": _TITLES.get(status, "error"),
        "status": status,
        "detail": detail,
        "reason": reason or _REASONS.get(status, "error"),
        **extra,
    }
    return JSONResponse(body, status_code=status, headers=headers, media_type=PROBLEM_MEDIA_TYPE)


def _field(location: tuple[Any, ...] | list[Any]) -> str:
    return ".".join(str(part) for part in location if part not in ("body", "query", "path", "header"))


def _validation_detail(errors: list[dict[str, Any]]) -> str:
    parts = [f"{_field(error.get('loc', ())) or 'body'}: {error.get('msg', 'invalid')}" for error in errors[:5]]
    return "; ".join(parts)[:1000] or "invalid request"


def install_problem_handlers(app: FastAPI) -> None:
    """Every refusal, HTTP error and validation error of `app` answers a `Problem`."""

    async def refused(_: Request, error: Exception) -> JSONResponse:
        assert isinstance(error, Refused)
        return problem_response(status=error.status, detail=error.detail, reason=error.reason)

    async def http_error(_: Request, error: Exception) -> JSONResponse:
        assert isinstance(error, StarletteHTTPException)
        detail = error.detail if isinstance(error.detail, str) else str(error.detail)
        return problem_response(status=error.status_code, detail=detail, headers=dict(error.headers or {}))

    async def invalid(_: Request, error: Exception) -> JSONResponse:
        assert isinstance(error, RequestValidationError)
        errors = [
            {"loc": list(item.get("loc", ())), "msg": str(item.get("msg", "")), "type": str(item.get("type", ""))}
            for item in error.errors()
        ]
        return problem_response(status=422, detail=_validation_detail(errors), errors=errors)

    app.add_exception_handler(Refused, refused)
    app.add_exception_handler(StarletteHTTPException, http_error)
    app.add_exception_handler(RequestValidationError, invalid)
