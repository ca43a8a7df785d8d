"""What integrators and operators expect of every service's HTTP side: the bearer scheme declared and
answered as before, OPTIONS naming every method of a path, no number taken for a date, "too many
connections" said as such, business gauges from one instance only, lag series of lost partitions gone."""

from typing import Annotated

import asyncpg  # type: ignore[import-untyped]
import httpx
import pytest
from aiokafka import TopicPartition
from fastapi import Depends, FastAPI
from prometheus_client import generate_latest
from pydantic import ValidationError
from sqlalchemy import exc as sa_exc

from shared.api import PROBLEMS, DailyRunRequest, problems
from shared.auth import Principal, parse_api_tokens, require_roles
from shared.consumer import forget_lag
from shared.failures import is_too_many_connections, is_transient
from shared.http import _answer_for_database_failure
from shared.metrics import ServiceMetrics, set_labelled
from shared.problems import PROBLEM_MEDIA_TYPE, install_problem_handlers, problem_openapi


def _app() -> FastAPI:
    app = FastAPI()
    install_problem_handlers(app)
    app.openapi = problem_openapi(app)  # type: ignore[method-assign]
    app.state.principals = parse_api_tokens("good=ops,clerk=call_center")

    @app.get("/things", responses=PROBLEMS)
    async def things(_: Annotated[Principal, Depends(require_roles("ops"))]) -> dict[str, int]:
        return {"things": 1}

    @app.post("/things", responses={**PROBLEMS, **problems(409)})
    async def add_thing(_: Annotated[Principal, Depends(require_roles("ops"))]) -> dict[str, int]:
        return {"things": 2}

    return app


async def _call(method: str, path: str, **kwargs: object) -> httpx.Response:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=_app()), base_url="http://t") as client:
        return await client.request(method, path, **kwargs)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("headers", "detail"),
    [
        ({}, "missing bearer token: send 'Authorization: Bearer <token>'"),
        ({"Authorization": "Basic Z29vZA=="}, "missing bearer token: send 'Authorization: Bearer <token>'"),
        ({"Authorization": "Bearer nope"}, "unknown bearer token"),
    ],
)
async def test_a_missing_or_unknown_token_answers_401_with_the_bearer_challenge(
    headers: dict[str, str], detail: str
) -> None:
    response = await _call("GET", "/things", headers=headers)
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"
    assert response.headers["content-type"] == PROBLEM_MEDIA_TYPE
    assert response.json()["detail"] == detail


async def test_a_token_without_the_role_answers_403_and_one_with_it_passes() -> None:
    refused = await _call("GET", "/things", headers={"Authorization": "Bearer clerk"})
    assert (refused.status_code, refused.json()["detail"]) == (403, "this needs the role ops")
    assert (await _call("GET", "/things", headers={"Authorization": "Bearer good"})).json() == {"things": 1}


def test_the_document_declares_the_bearer_scheme_and_every_problem_as_problem_json() -> None:
    document = _app().openapi()
    assert document["components"]["securitySchemes"]["bearer"]["scheme"] == "bearer"
    operation = document["paths"]["/things"]["post"]
    assert operation["security"] == [{"bearer": []}]
    for status in ("401", "403", "409", "422", "429"):
        assert operation["responses"][status]["content"] == {
            PROBLEM_MEDIA_TYPE: {"schema": {"$ref": "#/components/schemas/Problem"}}
        }
    assert "HTTPValidationError" not in document["components"]["schemas"]
    assert document["components"]["schemas"]["Problem"]["examples"]


async def test_a_method_a_path_does_not_serve_names_every_method_it_does() -> None:
    response = await _call("OPTIONS", "/things")
    assert response.status_code == 405
    assert response.headers["allow"] == "GET, HEAD, POST"
    assert response.headers["content-type"] == PROBLEM_MEDIA_TYPE


@pytest.mark.parametrize("value", [0, 1.5, "0", "20261201", "0.5"])
def test_a_number_is_not_a_date(value: object) -> None:
    with pytest.raises(ValidationError, match="ISO-8601"):
        DailyRunRequest.model_validate({"as_of": value})
    assert str(DailyRunRequest.model_validate({"as_of": "2026-12-01"}).as_of) == "2026-12-01"


def _too_many_connections() -> sa_exc.DBAPIError:
    original = asyncpg.exceptions.TooManyConnectionsError("sorry, too many clients already")
    return sa_exc.DBAPIError("SELECT 1", {}, original)


def test_too_many_connections_stays_transient_for_the_consumer() -> None:
    error = _too_many_connections()
    assert is_too_many_connections(error)
    assert is_transient(error)
    assert not is_too_many_connections(sa_exc.InterfaceError("SELECT 1", {}, ConnectionResetError("reset")))


def test_too_many_connections_answers_503_saying_so_and_is_counted() -> None:
    metrics = ServiceMetrics(service="scoring")
    answer = _answer_for_database_failure(_too_many_connections(), metrics=metrics)
    assert answer is not None and answer.status_code == 503
    assert b"too many connections" in answer.body
    assert b'"reason":"too_many_connections"' in answer.body
    assert "vip_db_too_many_connections_total 1.0" in generate_latest(metrics.registry).decode()


async def test_business_gauges_are_exported_only_by_the_leading_instance() -> None:
    metrics = ServiceMetrics(service="tiering")

    async def refresh(target: ServiceMetrics) -> None:
        set_labelled(target.vips_by_tier, {"gold": 7})

    metrics.refresh_business_with(refresh, max_age_s=60)
    await metrics.refresh_business(leading=True)
    assert 'vip_customers_by_tier{tier="gold"} 7.0' in generate_latest(metrics.registry).decode()
    await metrics.refresh_business(leading=False)
    assert "vip_customers_by_tier{" not in generate_latest(metrics.registry).decode()
    await metrics.refresh_business(leading=True)
    assert 'vip_customers_by_tier{tier="gold"} 7.0' in generate_latest(metrics.registry).decode()


def test_the_lag_of_a_partition_moved_elsewhere_is_no_longer_exported() -> None:
    metrics = ServiceMetrics(service="scoring")
    metrics.consumer_lag.labels("pas.policy-events", "3").set(40)
    metrics.consumer_lag.labels("pas.policy-events", "4").set(2)
    forget_lag(metrics, [TopicPartition("pas.policy-events", 3), TopicPartition("pas.policy-events", 7)])
    scraped = generate_latest(metrics.registry).decode()
    assert 'partition="3"' not in scraped
    assert 'vip_consumer_lag{partition="4",topic="pas.policy-events"} 2.0' in scraped
