"""One error body for every service: RFC 9457 problem details (`application/problem+json`).

    {"type": "about:blank", "title": "conflict", "status": 409,
     "detail": "application 12 is approved: it takes no more decisions", "reason": "closed"}

`detail` is always a human sentence; `reason` a machine-readable code (for a validation error,
`invalid`, with the field-level `errors` beside it). Installed once, by the shared app factory, for
`Refused`, FastAPI's `HTTPException` (auth, 404 of unknown routes) and request validation errors.
"""

from collections.abc import Callable
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match

from shared.examples import sample
from shared.refusals import Refused

PROBLEM_MEDIA_TYPE = "application/problem+json"

_TITLES = {400: "bad request", 401: "unauthorized", 403: "forbidden", 404: "not found", 405: "method not allowed",
           409: "conflict", 413: "request too large", 422: "invalid request", 429: "too many requests",
           503: "unavailable"}
_REASONS = {400: "bad_request", 401: "unauthenticated", 403: "forbidden", 404: "not_found",
            405: "method_not_allowed", 409: "conflict", 413: "too_large", 422: "invalid", 429: "rate_limited",
            503: "unavailable"}


class FieldError(BaseModel):
    loc: list[str | int] = Field(description="where the invalid value is: body, query or path, then the field")
    msg: str
    type: str


class Problem(BaseModel):
    """The body of every error answer (RFC 9457), documented on every operation."""

    model_config = ConfigDict(extra="allow", json_schema_extra={"examples": [{
        "type": "about:blank", "title": "conflict", "status": 409,
        "detail": "application 12 is approved: it takes no more decisions", "reason": "closed",
    }]})

    type: str = Field(default="about:blank", description="always about:blank: `reason` tells the cases apart")
    title: str = Field(description="the status in words")
    status: int = Field(description="the HTTP status code, as answered")
    detail: str = Field(description="a sentence for a human")
    reason: str = Field(description="a machine-readable code (`not_found`, `closed`, `invalid`, ...)")
    errors: list[FieldError] | None = Field(default=None, description="a validation error's fields (422 only)")


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


def allowed_methods(request: Request) -> str:
    """Every method some route answers on this path: Starlette's own 405 names only the first route's
    (`Allow: POST` where a second route serves GET)."""
    methods: set[str] = set()
    for route in request.app.router.routes:
        match, _ = route.matches(request.scope)
        if match != Match.NONE:
            methods |= set(getattr(route, "methods", None) or ())
    if "GET" in methods:
        methods.add("HEAD")
    return ", ".join(sorted(methods))


def install_problem_handlers(app: FastAPI) -> None:
    """Every refusal, HTTP error and validation error of `app` answers a `Problem`."""

    async def refused(_: Request, error: Exception) -> JSONResponse:
        assert isinstance(error, Refused)
        return problem_response(status=error.status, detail=error.detail, reason=error.reason)

    async def http_error(request: Request, error: Exception) -> JSONResponse:
        assert isinstance(error, StarletteHTTPException)
        detail = error.detail if isinstance(error.detail, str) else str(error.detail)
        headers = dict(error.headers or {})
        if error.status_code == 405:
            headers["Allow"] = allowed_methods(request)
        return problem_response(status=error.status_code, detail=detail, headers=headers)

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


def problem_openapi(app: FastAPI) -> Callable[[], dict[str, Any]]:
    """`app.openapi`: FastAPI's document with every error answer as `application/problem+json` and a
    `Problem` (FastAPI documents a model under `application/json`, and 422 as its own validation body).

    Two answers belong to the app, not the operation, and are added to every operation with a body:
    400 (not JSON) and 413 (over 64 KiB). Every object schema without an example gets one made from
    the schema itself (`shared.examples.sample`), so no model's example can drift from its fields.
    """
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is not None:
            return app.openapi_schema
        document = build()
        problem = {PROBLEM_MEDIA_TYPE: {"schema": {"$ref": "#/components/schemas/Problem"}}}
        for item in document.get("paths", {}).values():
            for operation in item.values():
                if "requestBody" in operation:
                    for status, sentence in ((400, "the body is not JSON"), (413, "the body is over 64 KiB")):
                        operation["responses"].setdefault(str(status), {"description": sentence})
                for status, response in operation.get("responses", {}).items():
                    schema = response.get("content", {}).get("application/json", {}).get("schema", {})
                    if status[:1] in ("4", "5") and (not response.get("content") or schema.get("$ref", "").endswith(
                        ("/Problem", "/HTTPValidationError")
                    )):
                        response["content"] = problem
        schemas = document.get("components", {}).get("schemas", {})
        for unused in ("HTTPValidationError", "ValidationError"):
            schemas.pop(unused, None)
        for schema in schemas.values():
            if schema.get("type") == "object" and "examples" not in schema:
                schema["examples"] = [sample(schema, schemas)]
        app.openapi_schema = document
        return document

    return openapi
