"""docs/settings.md, generated from the settings classes: every `VIP_*` variable, its default and meaning.

    python -m cli.settings_table          # rewrite docs/settings.md
    python -m cli.settings_table --check  # exit 1 when it is stale

A setting's meaning is its `Field(description=...)` (or the attribute's docstring in the dashboard's
settings); a setting without one is refused, so the table can never grow a blank row. Defaults that
differ per service (ports, databases, batch sizes) are listed per service.
"""

import sys
from pathlib import Path
from typing import Any

from pydantic.fields import FieldInfo
from pydantic_settings import BaseSettings

from dashboard.config import DashboardSettings
from services.assignment.config import AssignmentSettings
from services.entitlements.config import EntitlementsSettings
from services.scoring.config import ScoringSettings
from services.tiering.config import TieringSettings
from shared.settings import ServiceSettings

ROOT = Path(__file__).resolve().parent.parent
SETTINGS_DOC = ROOT / "docs" / "settings.md"
SERVICES: dict[str, type[ServiceSettings]] = {
    "scoring": ScoringSettings, "tiering": TieringSettings,
    "assignment": AssignmentSettings, "entitlements": EntitlementsSettings,
}

_HEADER = """# Settings

Every setting is an environment variable. Generated from the settings classes (`shared/settings.py`,
`services/*/config.py`, `dashboard/config.py`) by `python -m cli.settings_table`; a test fails when this
table and the classes disagree. A service process reads the services' settings; the dashboard
process reads its own (some names are shared: they mean the same thing in both).
"""


def _shown(value: Any) -> str:
    if hasattr(value, "get_secret_value"):
        value = value.get_secret_value()
    if isinstance(value, Path):
        value = value.relative_to(ROOT) if value.is_relative_to(ROOT) else value
    if value is None or value == "":
        return "(unset)"
    if isinstance(value, bool):
        return str(value).lower()
    return f"`{value}`"


def _default(field: FieldInfo, *, per_service: dict[str, FieldInfo]) -> str:
    shown = {service: _shown(info.get_default()) for service, info in per_service.items()}
    if len(set(shown.values())) > 1 or field.is_required():
        return ", ".join(f"{service} {value}" for service, value in shown.items())
    return _shown(field.get_default())


def _meaning(owner: type[BaseSettings], name: str, field: FieldInfo) -> str:
    if not field.description:
        raise ValueError(f"{owner.__name__}.{name} has no description: say what it means (docs/settings.md)")
    return " ".join(field.description.split()).replace("|", "\\|")


def _rows() -> list[str]:
    rows = ["| variable | default | read by | meaning |", "|---|---|---|---|"]
    for name, field in ServiceSettings.model_fields.items():
        per_service = {service: settings.model_fields[name] for service, settings in SERVICES.items()}
        rows.append(
            f"| `VIP_{name.upper()}` | {_default(field, per_service=per_service)} | services | "
            f"{_meaning(ServiceSettings, name, field)} |"
        )
    for name, field in DashboardSettings.model_fields.items():
        rows.append(
            f"| `VIP_{name.upper()}` | {_shown(field.get_default())} | dashboard | "
            f"{_meaning(DashboardSettings, name, field)} |"
        )
    return rows


def settings_table() -> str:
    return "\n".join([_HEADER, *_rows(), ""])


def main(argv: list[str]) -> int:
    text = settings_table()
    if "--check" in argv:
        if not SETTINGS_DOC.exists() or SETTINGS_DOC.read_text() != text:
            print(f"{SETTINGS_DOC} is stale: run python -m cli.settings_table", file=sys.stderr)
            return 1
        return 0
    SETTINGS_DOC.write_text(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
