"""No log call above DEBUG in the services, the shared library or the dashboard passes customer data
(a customer id, name or birthday) to be formatted: at INFO the logs hold no customer data in clear text.

Static, over every `log.<level>(...)` / `logger.<level>(...)` call: its arguments (message included)
must not mention a name that carries customer data. The dynamic counterpart, an event through real
services with INFO logs captured, is tests/integration/test_log_privacy.py.
"""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
LEVELS_ABOVE_DEBUG = {"info", "warning", "warn", "error", "exception", "critical"}
CUSTOMER_DATA = ("customer_id", "holder_id", "birthday", "customer.name", "profile.name", "customer_ids")
KNOWN: set[tuple[str, str]] = set()
"""Log calls allowed to carry customer data above DEBUG: none."""


def _log_calls() -> list[tuple[str, str, int, str]]:
    found = []
    for package in ("services", "shared", "dashboard", "cli"):
        for path in sorted((ROOT / package).rglob("*.py")):
            if "migrations" in path.parts:
                continue
            tree = ast.parse(path.read_text(encoding="utf-8"))
            for function in ast.walk(tree):
                if not isinstance(function, ast.FunctionDef | ast.AsyncFunctionDef):
                    continue
                for node in ast.walk(function):
                    if (
                        isinstance(node, ast.Call)
                        and isinstance(node.func, ast.Attribute)
                        and node.func.attr in LEVELS_ABOVE_DEBUG
                        and isinstance(node.func.value, ast.Name)
                        and node.func.value.id in {"log", "logger", "logging"}
                    ):
                        text = " ".join(ast.unparse(argument) for argument in [*node.args, *node.keywords])
                        found.append((str(path.relative_to(ROOT)), function.name, node.lineno, text))
    return found


def test_log_calls_are_found() -> None:
    assert any(path == "shared/dead_letters.py" for path, *_ in _log_calls())


@pytest.mark.parametrize("call", _log_calls(), ids=lambda call: f"{call[0]}:{call[2]}")
def test_no_log_call_above_debug_formats_customer_data(call: tuple[str, str, int, str]) -> None:
    path, function, line, arguments = call
    if (path, function) in KNOWN:
        pytest.skip("known, reported: to be downgraded to DEBUG by the module's owner")
    leaked = [name for name in CUSTOMER_DATA if name in arguments]
    assert not leaked, f"{path}:{line} logs {leaked} above DEBUG: use log.debug, or leave the id out"
