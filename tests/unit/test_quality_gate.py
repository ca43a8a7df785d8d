"""The one quality gate: ruff, mypy (strict), the import boundaries and the dependency audit."""

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _tool(name: str) -> str:
    found = shutil.which(name, path=str(Path(sys.executable).parent))
    if found is None:
        pytest.fail(f"{name} is not installed: install the project with its dev extra ('.[dev]')")
    return found


def _run(*argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(argv, cwd=ROOT, capture_output=True, text=True, timeout=600, check=False)


def test_ruff_finds_nothing() -> None:
    result = _run(_tool("ruff"), "check", ".")
    assert result.returncode == 0, result.stdout + result.stderr


def test_mypy_strict_finds_nothing() -> None:
    result = _run(_tool("mypy"))
    assert result.returncode == 0, result.stdout + result.stderr


def test_import_boundaries_hold() -> None:
    """The domain imports no framework; services import only `shared`, never each other."""
    result = _run(_tool("lint-imports"))
    assert result.returncode == 0, result.stdout + result.stderr


def test_no_locked_dependency_has_a_known_vulnerability() -> None:
    """pip-audit over requirements.lock (what the image installs), against PyPI's advisory data.

    pip-audit exits 0 when it could not look a package up (it "skips" it): that is no audit, so this
    test never passes then; it is reported as skipped with pip-audit's reason (the vulnerability
    service is unreachable, or does not know the release: on this project's build machines PyPI's
    per-release JSON is not served), and fails on any vulnerability it did find.
    `PIP_AUDIT_VULNERABILITY_SERVICE=osv` (and `PIP_AUDIT_OSV_URL`) audit against OSV instead.
    """
    result = _run(
        _tool("pip-audit"), "--requirement", "requirements.lock", "--require-hashes", "--disable-pip",
        "--format", "json", "--progress-spinner", "off",
    )
    try:
        report = json.loads(result.stdout)
    except json.JSONDecodeError:
        pytest.fail(f"pip-audit could not audit requirements.lock (exit {result.returncode}):\n{result.stderr}")
    dependencies = report["dependencies"]
    assert dependencies, "pip-audit found no dependency in requirements.lock"
    vulnerable = {
        f"{dependency['name']}=={dependency['version']}": [
            f"{vulnerability['id']} (fixed in {', '.join(vulnerability['fix_versions']) or 'no release yet'})"
            for vulnerability in dependency["vulns"]
        ]
        for dependency in dependencies
        if dependency.get("vulns")
    }
    assert not vulnerable, f"known vulnerabilities: {vulnerable}: bump the floor in pyproject and regenerate the lock"
    skipped = [dependency["skip_reason"] for dependency in dependencies if "skip_reason" in dependency]
    if skipped:
        pytest.skip(
            f"pip-audit could not audit {len(skipped)} of {len(dependencies)} locked packages, so this is no "
            "audit: is its vulnerability service reachable from here (https://pypi.org/pypi/<name>/<version>/json "
            f"by default)? First reasons: {skipped[:3]}"
        )
    assert result.returncode == 0, result.stdout + result.stderr
