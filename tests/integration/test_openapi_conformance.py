"""Each service's OpenAPI document, published and honoured.

- `docs/api/<service>.json` is the document the app serves, regenerated in-process here: an endpoint
  or a model that changes without its document fails (regenerate: `python -m cli.openapi_docs`);
- every operation documents its answers: a typed 2xx body with an example, every error as an RFC 9457
  `Problem` in `application/problem+json`, the bearer scheme on every authenticated operation;
- schemathesis with all its checks (status codes, content types, response schemas, headers, negative
  data refused, positive data accepted, ...) finds nothing against the service served for real, on
  the embedded PostgreSQL and broker, with a token holding every role.
"""

import asyncio
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import jsonschema_rs
import pytest

from cli import openapi_docs
from cli.launch import free_port
from services.assignment.config import AssignmentSettings
from services.assignment.main import create_app as assignment_app
from services.entitlements.config import EntitlementsSettings
from services.entitlements.main import create_app as entitlements_app
from services.scoring.config import ScoringSettings
from services.scoring.main import create_app as scoring_app
from services.tiering.config import TieringSettings
from services.tiering.main import create_app as tiering_app
from tests.support import running, service_settings

ST = str(Path(sys.executable).parent / "st")
SERVICES: dict[str, tuple[Any, Any]] = {
    "scoring": (ScoringSettings, scoring_app),
    "tiering": (TieringSettings, tiering_app),
    "assignment": (AssignmentSettings, assignment_app),
    "entitlements": (EntitlementsSettings, entitlements_app),
}
DOCUMENTS = openapi_docs.openapi_documents()
CONFIG = Path(__file__).with_name("schemathesis.toml")


@pytest.mark.parametrize("service", list(SERVICES))
def test_the_published_document_is_the_one_the_service_serves(service: str) -> None:
    published = (openapi_docs.API_DIR / f"{service}.json").read_text()
    assert published == openapi_docs.rendered(DOCUMENTS[service]), (
        f"docs/api/{service}.json is stale: run python -m cli.openapi_docs"
    )


def _operations(service: str) -> list[tuple[str, str, dict[str, Any]]]:
    return [(method.upper(), path, operation) for path, item in DOCUMENTS[service]["paths"].items()
            for method, operation in item.items()]


@pytest.mark.parametrize("service", list(SERVICES))
def test_every_operation_documents_a_typed_answer_and_its_problems(service: str) -> None:
    document = DOCUMENTS[service]
    schemas = document["components"]["schemas"]
    assert document["components"]["securitySchemes"]["bearer"] == {
        "type": "http", "scheme": "bearer", "description": "a token of VIP_API_TOKENS: `Authorization: Bearer <token>`",
    }
    for method, path, operation in _operations(service):
        where = f"{service} {method} {path}"
        successes = [code for code in operation["responses"] if code.startswith("2")]
        assert successes, where
        for code in successes:
            schema = operation["responses"][code]["content"]["application/json"]["schema"]
            assert "$ref" in schema, f"{where} {code}: not a named model"
            model = schemas[schema["$ref"].rsplit("/", 1)[-1]]
            assert model.get("properties"), f"{where} {code}: an untyped body"
            assert model.get("examples"), f"{where} {code}: no example"
            jsonschema_rs.validator_for({**model, "components": document["components"]},
                                        ).validate(json.loads(json.dumps(model["examples"][0])))
        for code, response in operation["responses"].items():
            if code[0] in "45" and path != "/readyz":
                assert list(response["content"]) == ["application/problem+json"], f"{where} {code}"
        if "health" in operation.get("tags", []):
            continue
        assert operation.get("security") == [{"bearer": []}], f"{where}: no bearer scheme"
        expected = {"401", "403", "422", "429"}
        if any(parameter["in"] == "path" for parameter in operation.get("parameters", [])):
            expected.add("404")
        if "requestBody" in operation:
            expected |= {"400", "413"}
        undocumented = expected - set(operation["responses"])
        assert not undocumented, f"{where}: undocumented {undocumented}"


@pytest.mark.parametrize("service", list(SERVICES))
async def test_schemathesis_with_all_checks_finds_nothing(
    service: str, database_url: str, bootstrap_servers: str, api_tokens: dict[str, str], tmp_path: Path,
) -> None:
    settings_class, create_app = SERVICES[service]
    settings = service_settings(
        settings_class, database_url=database_url, bootstrap_servers=bootstrap_servers, tokens=api_tokens,
        http_rate_per_s=0, allow_future_daily_run=True,
    )
    port = free_port()
    async with running(create_app(settings), port=port):
        argv = [
            ST, "--config-file", str(CONFIG), "run", f"http://127.0.0.1:{port}/openapi.json", "--checks", "all",
            "-H", f"Authorization: Bearer {api_tokens['dev']}",
            "--max-examples", os.environ.get("VIP_SCHEMATHESIS_EXAMPLES", "15"), "--no-shrink",
            # one worker: concurrent workers trip a CPython 3.11.7 bug in ast.parse (a SystemError in hypothesis)
            "--workers", "1", "--phases", "examples,coverage,fuzzing,stateful", "--generation-database", "none",
            "--request-timeout", "10", "--seed", "15", "--no-color",
        ]
        finished = await asyncio.to_thread(
            subprocess.run, argv, capture_output=True, text=True, timeout=600, check=False, cwd=tmp_path
        )
    assert finished.returncode == 0, (
        f"schemathesis on {service}:\n{finished.stdout[-12000:]}\n{finished.stderr[-2000:]}"
    )
