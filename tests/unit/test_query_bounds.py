"""Issue 12.4: every query and path parameter of every service is bounded in its schema, so a value
such as `offset=9223372036854775808` answers 422 before any code runs, never a 500 (the driver
cannot bind it). Read from each service's own OpenAPI, so a new route is checked the day it is added.
"""

from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from services.assignment.config import AssignmentSettings
from services.assignment.main import create_app as assignment_app
from services.entitlements.config import EntitlementsSettings
from services.entitlements.main import create_app as entitlements_app
from services.scoring.config import ScoringSettings
from services.scoring.main import create_app as scoring_app
from services.tiering.config import TieringSettings
from services.tiering.main import create_app as tiering_app

TOKEN = "bounds-ops-token"
APPS = {
    "scoring": (scoring_app, ScoringSettings),
    "tiering": (tiering_app, TieringSettings),
    "assignment": (assignment_app, AssignmentSettings),
    "entitlements": (entitlements_app, EntitlementsSettings),
}


def _app(service: str) -> FastAPI:
    create, settings = APPS[service]
    return create(settings(database_url="postgresql+asyncpg://nobody@127.0.0.1:1/none",  # type: ignore[operator]
                           api_tokens=f"{TOKEN}=ops+call_center+admin", log_json=False))


def _schema_of(parameter: dict[str, Any]) -> list[dict[str, Any]]:
    schema = parameter["schema"]
    return [option for option in schema.get("anyOf", [schema]) if option.get("type") != "null"]


@pytest.mark.parametrize("service", APPS)
def test_every_integer_and_string_parameter_has_a_bound(service: str) -> None:
    unbounded = []
    for path, item in _app(service).openapi()["paths"].items():
        for method, operation in item.items():
            for parameter in operation.get("parameters", []):
                for schema in _schema_of(parameter):
                    kind = schema.get("type")
                    bounded = (
                        ("maximum" in schema) if kind == "integer"
                        else ("maxLength" in schema or "enum" in schema or "format" in schema or "$ref" in schema)
                        if kind == "string" else True
                    )
                    if not bounded:
                        unbounded.append(f"{method.upper()} {path} {parameter['name']}")
    assert unbounded == []


@pytest.mark.parametrize(("service", "url"), [
    ("assignment", "/v1/representatives?offset=9223372036854775808"),
    ("assignment", "/v1/customers/unassigned?offset=9223372036854775808"),
    ("assignment", "/v1/customers/unassigned?offset=-1"),
    ("assignment", f"/v1/customers/{'C' * 65}/representative"),
    ("tiering", "/v1/ops/tiers?from=9999-01-01&to=9999-12-31"),
    ("entitlements", "/v1/reports/costs?from=0001-01-01&to=9999-12-31"),
    ("scoring", "/v1/customers/C1/points?as_of=9999-12-31"),
    ("scoring", "/v1/ops/dead-letters?limit=100000"),
    ("scoring", "/v1/ops/audit?subject_id=" + "x" * 65),
])
def test_an_out_of_bounds_parameter_is_a_422_problem_naming_it(service: str, url: str) -> None:
    """Refused by validation alone: the app has no database here, so reaching one would be a 5xx."""
    client = TestClient(_app(service))  # no lifespan: no database, no broker
    answer = client.get(url, headers={"Authorization": f"Bearer {TOKEN}"})
    assert answer.status_code == 422, answer.text
    assert answer.headers["content-type"].startswith("application/problem+json")
    named = {str(error["loc"][-1]) for error in answer.json()["errors"]}
    assert named & {"offset", "customer_id", "from", "to", "as_of", "limit", "subject_id"}, answer.json()
