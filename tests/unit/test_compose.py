"""docker-compose.yml checked statically (no Docker engine in CI): the parts the platform relies on."""

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from cli.layout import SERVICES

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    loaded = yaml.safe_load((ROOT / "docker-compose.yml").read_text(encoding="utf-8"))
    assert isinstance(loaded, dict)
    return loaded


def _service(compose: dict[str, Any], name: str) -> dict[str, Any]:
    services = compose["services"]
    assert name in services, f"no {name} service in docker-compose.yml"
    service = services[name]
    assert isinstance(service, dict)
    return service


def _command(service: dict[str, Any]) -> list[str]:
    command = service["command"]
    return command.split() if isinstance(command, str) else [str(part) for part in command]


def _env(service: dict[str, Any]) -> dict[str, str]:
    environment = service.get("environment", {})
    if isinstance(environment, list):
        return dict(entry.split("=", 1) for entry in environment)
    return {key: str(value) for key, value in environment.items()}


def test_kafka_runs_in_kraft_mode_without_zookeeper(compose: dict[str, Any]) -> None:
    kafka = _service(compose, "kafka")
    assert kafka["image"].startswith("apache/kafka")
    env = _env(kafka)
    assert set(env["KAFKA_PROCESS_ROLES"].split(",")) == {"broker", "controller"}
    assert "KAFKA_CONTROLLER_QUORUM_VOTERS" in env
    assert not any("zookeeper" in name.lower() for name in compose["services"])
    assert not any("ZOOKEEPER" in name for name in env)
    assert "healthcheck" in kafka


def test_kafka_advertises_a_listener_the_services_can_reach(compose: dict[str, Any]) -> None:
    env = _env(_service(compose, "kafka"))
    advertised = env["KAFKA_ADVERTISED_LISTENERS"].split(",")
    bootstrap = _env(_service(compose, "scoring"))["VIP_KAFKA_BOOTSTRAP_SERVERS"]
    assert any(listener.endswith(f"//{bootstrap}") for listener in advertised), (advertised, bootstrap)


def test_postgres_init_script_creates_one_database_per_service(compose: dict[str, Any]) -> None:
    postgres = _service(compose, "postgres")
    assert postgres["image"].startswith("postgres")
    mounts = [volume for volume in postgres["volumes"] if "docker-entrypoint-initdb.d" in volume]
    assert mounts, "init.sql is not mounted into /docker-entrypoint-initdb.d"
    host_path = mounts[0].split(":")[0]
    sql = (ROOT / host_path).read_text(encoding="utf-8")
    created = set(re.findall(r"CREATE\s+DATABASE\s+\"?(\w+)\"?", sql, flags=re.IGNORECASE))
    assert created == {service.database for service in SERVICES}
    assert "healthcheck" in postgres


@pytest.mark.parametrize("layout", SERVICES, ids=lambda layout: layout.name)
def test_each_service_runs_its_module_with_its_settings(compose: dict[str, Any], layout: Any) -> None:
    service = _service(compose, layout.name)
    assert _command(service) == ["python", "-m", layout.module]
    env = _env(service)
    port = layout.port(base=8001)
    assert env["VIP_HTTP_PORT"] == str(port)
    assert env["VIP_HTTP_HOST"] == "0.0.0.0"
    assert env["VIP_KAFKA_IDEMPOTENCE"] == "true"
    assert env["VIP_API_TOKENS"].startswith("${VIP_API_TOKENS")
    assert env["VIP_DATABASE_URL"].startswith("postgresql+asyncpg://")
    assert env["VIP_DATABASE_URL"].endswith(f"@postgres:5432/{layout.database}")
    assert env["VIP_KAFKA_BOOTSTRAP_SERVERS"].startswith("kafka:")
    assert f"{port}/readyz" in " ".join(service["healthcheck"]["test"])


@pytest.mark.parametrize("layout", SERVICES, ids=lambda layout: layout.name)
def test_each_service_waits_for_healthy_kafka_and_postgres(compose: dict[str, Any], layout: Any) -> None:
    depends_on = _service(compose, layout.name)["depends_on"]
    assert depends_on["kafka"]["condition"] == "service_healthy"
    assert depends_on["postgres"]["condition"] == "service_healthy"


def test_services_share_one_image_built_from_an_existing_dockerfile(compose: dict[str, Any]) -> None:
    builds = {
        (service["build"]["context"], service["build"]["dockerfile"], service["image"])
        for service in (_service(compose, layout.name) for layout in SERVICES)
    }
    assert len(builds) == 1
    context, dockerfile, _image = builds.pop()
    path = ROOT / context / dockerfile
    assert path.is_file(), f"{path} does not exist"
    text = path.read_text(encoding="utf-8")
    assert re.search(r"^FROM python:3\.11-slim", text, flags=re.MULTILINE)
    users = re.findall(r"^USER\s+(\S+)", text, flags=re.MULTILINE)
    assert users and users[-1] not in ("root", "0"), "the image must not run as root"


def test_topics_are_created_before_the_services_start(compose: dict[str, Any]) -> None:
    topics = _service(compose, "topics")
    assert "ensure_topics" in " ".join(_command(topics))
    for layout in SERVICES:
        condition = _service(compose, layout.name)["depends_on"]["topics"]["condition"]
        assert condition == "service_completed_successfully"


def test_prometheus_scrapes_with_the_deploy_config_and_grafana_is_provisioned(compose: dict[str, Any]) -> None:
    prometheus = _service(compose, "prometheus")
    assert prometheus["image"].startswith("prom/prometheus")
    mounts = {volume.split(":")[1]: volume.split(":")[0] for volume in prometheus["volumes"]}
    assert (ROOT / mounts["/etc/prometheus"] / "prometheus.yml").is_file()
    assert "--config.file=/etc/prometheus/prometheus.yml" in _command(prometheus)
    assert set(prometheus["depends_on"]) >= {layout.name for layout in SERVICES}
    grafana = _service(compose, "grafana")
    assert grafana["image"].startswith("grafana/grafana")
    assert "/etc/grafana/provisioning" in " ".join(grafana["volumes"])
    assert _env(grafana)["GF_SECURITY_ADMIN_PASSWORD"].startswith("${VIP_GRAFANA_ADMIN_PASSWORD:?")
    for service in (prometheus, grafana):
        assert all(str(mapping).startswith("127.0.0.1:") for mapping in service["ports"])


def test_the_ops_dashboard_reads_the_services_by_compose_name(compose: dict[str, Any]) -> None:
    dashboard = _service(compose, "dashboard")
    assert _command(dashboard) == ["python", "-m", "dashboard.main"]
    env = _env(dashboard)
    for layout in SERVICES:
        assert env[layout.url_env_var] == f"http://{layout.name}:{layout.port(base=8001)}"
    assert env["VIP_KAFKA_BOOTSTRAP_SERVERS"].startswith("kafka:")
    assert env["VIP_API_TOKENS"].startswith("${VIP_API_TOKENS")


# Hardening: no default password, loopback-only ports, one database role per service, Kafka's data on
# its volume (the hostile input, abuse and audit issue, items 11-13).

PASSWORD_REFERENCE = re.compile(r"\$\{(?P<name>[A-Z0-9_]*PASSWORD[A-Z0-9_]*)(?P<modifier>[^}]*)\}")


def _compose_texts() -> dict[str, str]:
    paths = [ROOT / "docker-compose.yml", ROOT / "deploy" / "compose.production.yml"]
    return {path.name: path.read_text(encoding="utf-8") for path in paths}


def test_no_password_has_a_default_value() -> None:
    """Every password is `${NAME:?message}`: compose refuses to start until it is set."""
    references = [
        (file, match["name"], match["modifier"])
        for file, text in _compose_texts().items()
        for match in PASSWORD_REFERENCE.finditer(text)
    ]
    assert len({name for _file, name, _modifier in references}) >= 6, references
    defaulted = [(file, name) for file, name, modifier in references if not modifier.startswith(":?")]
    assert not defaulted, f"passwords with a default or none required: {defaulted}"


def test_no_password_is_written_in_the_files() -> None:
    for file, text in _compose_texts().items():
        for name, service in yaml.safe_load(text)["services"].items():
            for key, value in _env(service).items():
                if "PASSWORD" in key.upper():
                    assert value.startswith("${"), f"{file}: {name}.{key} is written in the file"


def test_every_published_port_is_on_loopback_and_the_services_publish_none(compose: dict[str, Any]) -> None:
    for name, service in compose["services"].items():
        for mapping in service.get("ports", []):
            assert isinstance(mapping, str), f"{name}: use the short 127.0.0.1:HOST:CONTAINER form"
            assert mapping.startswith("127.0.0.1:"), f"{name} publishes {mapping} beyond this machine"
    for layout in SERVICES:
        assert "ports" not in _service(compose, layout.name), (
            f"{layout.name} publishes a host port: `docker compose up --scale {layout.name}=2` would fail"
        )


@pytest.mark.parametrize("layout", SERVICES, ids=lambda layout: layout.name)
def test_each_service_connects_as_its_own_role_with_its_own_password(
    compose: dict[str, Any], layout: Any
) -> None:
    url = _env(_service(compose, layout.name))["VIP_DATABASE_URL"]
    password_variable = f"VIP_{layout.name.upper()}_DB_PASSWORD"
    match = re.fullmatch(
        r"postgresql\+asyncpg://(?P<role>\w+):(?P<password>\$\{[^}]+\})@postgres:5432/(?P<db>\w+)", url
    )
    assert match, url
    assert match["role"] == layout.database, "each service logs in as the role owning its database"
    assert match["db"] == layout.database
    assert match["password"].startswith(f"${{{password_variable}:?")
    # init.sql reads the same variable from the postgres container's environment.
    postgres_env = _env(_service(compose, "postgres"))
    assert postgres_env[password_variable].startswith(f"${{{password_variable}:?")


def test_init_sql_gives_each_database_to_its_own_unprivileged_role(compose: dict[str, Any]) -> None:
    sql = (ROOT / "deploy" / "postgres" / "init.sql").read_text(encoding="utf-8")
    assert "ON_ERROR_STOP on" in sql
    for layout in SERVICES:
        role = layout.database
        created = re.search(rf"CREATE ROLE {role} (?P<options>[^;]*);", sql, flags=re.DOTALL)
        assert created, f"no role {role}"
        options = created["options"].split()
        for denied in ("NOSUPERUSER", "NOCREATEDB", "NOCREATEROLE", "NOBYPASSRLS"):
            assert denied in options, (role, denied)
        variable = f"VIP_{layout.name.upper()}_DB_PASSWORD"
        getenv = re.search(rf"^\\getenv (\w+) {variable}$", sql, flags=re.MULTILINE)
        assert getenv, f"init.sql does not read {variable}"
        assert f"PASSWORD :'{getenv[1]}'" in created["options"]
        assert re.search(rf"CREATE DATABASE {layout.database} OWNER {role};", sql)
        assert f"REVOKE ALL ON DATABASE {layout.database} FROM PUBLIC;" in sql
    assert _env(_service(compose, "postgres"))["POSTGRES_PASSWORD"].startswith("${VIP_POSTGRES_PASSWORD:?")


def test_kafka_writes_its_partitions_to_its_volume(compose: dict[str, Any]) -> None:
    kafka = _service(compose, "kafka")
    log_dirs = _env(kafka)["KAFKA_LOG_DIRS"].split(",")
    mounted = {volume.split(":")[1] for volume in kafka["volumes"]}
    assert log_dirs and all(directory in mounted for directory in log_dirs), (log_dirs, mounted)
    named = {volume.split(":")[0] for volume in kafka["volumes"]}
    assert named <= set(compose["volumes"]), "Kafka's data volume is a named volume that outlives the container"
