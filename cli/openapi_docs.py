"""The OpenAPI document of each service, published under docs/api/<service>.json.

    python -m cli.openapi_docs          # rewrite them
    python -m cli.openapi_docs --check  # exit 1 when one is stale (the test does the same)

Built in-process from each service's `create_app` (nothing starts: no database, no broker), so the
published document is exactly what `/openapi.json` answers.
"""

import json
import sys
from pathlib import Path
from typing import Any

from fastapi import FastAPI

from services.assignment.config import AssignmentSettings
from services.assignment.main import create_app as assignment_app
from services.entitlements.config import EntitlementsSettings
from services.entitlements.main import create_app as entitlements_app
from services.scoring.config import ScoringSettings
from services.scoring.main import create_app as scoring_app
from services.tiering.config import TieringSettings
from services.tiering.main import create_app as tiering_app

ROOT = Path(__file__).resolve().parent.parent
API_DIR = ROOT / "docs" / "api"


def service_apps() -> dict[str, FastAPI]:
    """Each service's app with default settings (the document depends on no setting)."""
    return {
        "scoring": scoring_app(ScoringSettings()),
        "tiering": tiering_app(TieringSettings()),
        "assignment": assignment_app(AssignmentSettings()),
        "entitlements": entitlements_app(EntitlementsSettings()),
    }


def openapi_documents() -> dict[str, dict[str, Any]]:
    return {service: app.openapi() for service, app in service_apps().items()}


def rendered(document: dict[str, Any]) -> str:
    return json.dumps(document, indent=2, ensure_ascii=False, sort_keys=False) + "\n"


def main(argv: list[str]) -> int:
    documents = openapi_documents()
    if "--check" in argv:
        stale = [s for s, d in documents.items() if not (API_DIR / f"{s}.json").exists()
                 or (API_DIR / f"{s}.json").read_text() != rendered(d)]
        for service in stale:
            print(f"docs/api/{service}.json is stale: run python -m cli.openapi_docs", file=sys.stderr)
        return 1 if stale else 0
    API_DIR.mkdir(parents=True, exist_ok=True)
    for service, document in documents.items():
        (API_DIR / f"{service}.json").write_text(rendered(document))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
