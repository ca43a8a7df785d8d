"""Every error answers one shape: RFC 9457 problem details with a human `detail` and a `reason` code."""

import httpx
from fastapi import FastAPI, HTTPException
from pydantic import BaseModel

from shared.problems import PROBLEM_MEDIA_TYPE, install_problem_handlers
from shared.refusals import Conflict, NotFound


class Body(BaseModel):
    count: int


def _app() -> FastAPI:
    app = FastAPI()
    install_problem_handlers(app)

    @app.get("/conflict")
    async def conflict() -> None:
        raise Conflict("application 12 is approved: it takes no more decisions", reason="closed")

    @app.get("/missing")
    async def missing() -> None:
        raise NotFound("customer C1 is unknown")

    @app.get("/auth")
    async def auth() -> None:
        raise HTTPException(401, detail="missing bearer token", headers={"WWW-Authenticate": "Bearer"})

    @app.post("/body")
    async def body(payload: Body) -> Body:
        return payload

    return app


async def _get(method: str, path: str, **kwargs: object) -> httpx.Response:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=_app()), base_url="http://t") as client:
        return await client.request(method, path, **kwargs)  # type: ignore[arg-type]


async def test_a_refusal_answers_its_status_reason_and_detail() -> None:
    response = await _get("GET", "/conflict")
    assert response.status_code == 409
    assert response.headers["content-type"] == PROBLEM_MEDIA_TYPE
    assert response.json() == {
        "type": "about:blank", "title": "conflict", "status": 409,
        "detail": "application 12 is approved: it takes no more decisions", "reason": "closed",
    }
    assert (await _get("GET", "/missing")).json()["reason"] == "not_found"


async def test_http_errors_keep_their_headers_in_the_same_shape() -> None:
    response = await _get("GET", "/auth")
    assert response.status_code == 401 and response.headers["www-authenticate"] == "Bearer"
    assert response.json()["reason"] == "unauthenticated"


async def test_a_validation_error_names_the_field_in_detail_and_lists_errors() -> None:
    response = await _get("POST", "/body", json={"count": "many"})
    assert response.status_code == 422
    problem = response.json()
    assert problem["detail"].startswith("count:") and problem["reason"] == "invalid"
    assert problem["errors"][0]["loc"] == ["body", "count"]


async def test_an_unknown_route_answers_a_problem_too() -> None:
    response = await _get("GET", "/nowhere")
    assert response.status_code == 404 and response.json()["title"] == "not found"
