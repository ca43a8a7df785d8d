"""Kafka security: the clients carry the settings, and the production example's users and ACLs.

No broker here: the clients' keyword arguments are recorded, and deploy/kafka/init-users-and-acls.sh
runs against stand-ins for kafka-configs.sh and kafka-acls.sh that write down what they were asked.
"""

import importlib
import os
import shlex
import shutil
import subprocess
from pathlib import Path
from typing import Any

import certifi
import pytest
import yaml
from aiokafka.errors import KafkaConnectionError
from pydantic import SecretStr, ValidationError

import shared.kafka
from cli.layout import SERVICES
from shared.kafka import create_consumer, create_producer, ensure_topics, kafka_security_kwargs
from shared.settings import KafkaSecuritySettings, ServiceSettings
from shared.topics import all_topics, dead_letter_topic_for

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "deploy" / "kafka" / "init-users-and-acls.sh"
SECURITY_KEYS = {"security_protocol", "sasl_mechanism", "sasl_plain_username", "sasl_plain_password", "ssl_context"}

# What each service reads and writes; dead letters go to `<consumed>.dlq`.
SERVICE_NAMES = [layout.name for layout in SERVICES]
def _consumers(name: str) -> Any:
    return importlib.import_module(f"services.{name}.consumers")


CONSUMES = {name: {route.topic for route in _consumers(name).routes()} for name in SERVICE_NAMES}
"""What each service reads, from its own `consumers.py`: the ACLs follow the code."""
PUBLISHES = {name: set(_consumers(name).PUBLISHES_TO) for name in SERVICE_NAMES}


def _settings(**security: Any) -> ServiceSettings:
    return ServiceSettings(service_name="scoring", database_url="postgresql+asyncpg://x@y/z", http_port=1, **security)


SASL = {
    "kafka_security_protocol": "SASL_PLAINTEXT",
    "kafka_sasl_username": "vip-scoring",
    "kafka_sasl_password": SecretStr("s3cret"),
}


class Recorder:
    """Stands in for an aiokafka client class: keeps the keyword arguments of each construction."""

    def __init__(self) -> None:
        self.calls: list[dict[str, Any]] = []

    def __call__(self, *_topics: str, **kwargs: Any) -> "Recorder":
        self.calls.append(kwargs)
        return self

    async def start(self) -> None:
        raise KafkaConnectionError("no broker in unit tests")

    async def close(self) -> None:
        return None


# -- settings and client keyword arguments ---------------------------------------------------------------


def test_the_defaults_are_plaintext_and_add_nothing_to_any_client(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("PROTOCOL", "MECHANISM", "USERNAME", "PASSWORD", "CAFILE"):
        monkeypatch.delenv(f"VIP_KAFKA_SECURITY_{name}", raising=False)
        monkeypatch.delenv(f"VIP_KAFKA_SASL_{name}", raising=False)
    monkeypatch.delenv("VIP_KAFKA_SSL_CAFILE", raising=False)
    settings = _settings()
    assert settings.kafka_security_protocol == "PLAINTEXT"
    assert settings.kafka_sasl_mechanism == "SCRAM-SHA-512"
    assert settings.kafka_sasl_username is None
    assert settings.kafka_ssl_cafile is None
    assert kafka_security_kwargs(settings) == {}
    producer, consumer = Recorder(), Recorder()
    monkeypatch.setattr(shared.kafka, "AIOKafkaProducer", producer)
    monkeypatch.setattr(shared.kafka, "AIOKafkaConsumer", consumer)
    create_producer(settings=settings)
    create_consumer(settings=settings)
    assert not SECURITY_KEYS & set(producer.calls[0]) and not SECURITY_KEYS & set(consumer.calls[0])


def test_sasl_scram_settings_reach_the_producer_and_the_consumer(monkeypatch: pytest.MonkeyPatch) -> None:
    settings = _settings(**SASL)
    producer, consumer = Recorder(), Recorder()
    monkeypatch.setattr(shared.kafka, "AIOKafkaProducer", producer)
    monkeypatch.setattr(shared.kafka, "AIOKafkaConsumer", consumer)
    create_producer(settings=settings)
    create_consumer(settings=settings)
    for kwargs in (producer.calls[0], consumer.calls[0]):
        assert kwargs["security_protocol"] == "SASL_PLAINTEXT"
        assert kwargs["sasl_mechanism"] == "SCRAM-SHA-512"
        assert kwargs["sasl_plain_username"] == "vip-scoring"
        assert kwargs["sasl_plain_password"] == "s3cret"
        assert "ssl_context" not in kwargs
    assert consumer.calls[0]["group_id"] == "vip-scoring"


async def test_the_admin_client_of_ensure_topics_authenticates_too(monkeypatch: pytest.MonkeyPatch) -> None:
    admin = Recorder()
    monkeypatch.setattr(shared.kafka, "AIOKafkaAdminClient", admin)
    with pytest.raises(KafkaConnectionError):
        await ensure_topics(
            bootstrap_servers="kafka:19092", topics=["t"], partitions=1, attempts=1,
            security=KafkaSecuritySettings(**SASL),
        )
    assert admin.calls[0]["sasl_plain_username"] == "vip-scoring"
    assert admin.calls[0]["security_protocol"] == "SASL_PLAINTEXT"


async def test_ensure_topics_reads_the_security_settings_from_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The compose `topics` container and the services' start call it with no settings at hand."""
    monkeypatch.setenv("VIP_KAFKA_SECURITY_PROTOCOL", "SASL_PLAINTEXT")
    monkeypatch.setenv("VIP_KAFKA_SASL_USERNAME", "vip-topics")
    monkeypatch.setenv("VIP_KAFKA_SASL_PASSWORD", "from-env")
    admin = Recorder()
    monkeypatch.setattr(shared.kafka, "AIOKafkaAdminClient", admin)
    with pytest.raises(KafkaConnectionError):
        await ensure_topics(bootstrap_servers="kafka:19092", topics=["t"], partitions=1, attempts=1)
    assert admin.calls[0]["sasl_plain_username"] == "vip-topics"
    assert admin.calls[0]["sasl_plain_password"] == "from-env"


def test_sasl_ssl_verifies_the_broker_with_the_given_ca() -> None:
    settings = _settings(**{**SASL, "kafka_security_protocol": "SASL_SSL", "kafka_ssl_cafile": Path(certifi.where())})
    kwargs = kafka_security_kwargs(settings)
    context = kwargs["ssl_context"]
    assert context.check_hostname and context.get_ca_certs() is not None
    assert kwargs["security_protocol"] == "SASL_SSL"


def test_sasl_without_credentials_is_refused_at_start() -> None:
    with pytest.raises(ValidationError, match="VIP_KAFKA_SASL_USERNAME and VIP_KAFKA_SASL_PASSWORD"):
        _settings(kafka_security_protocol="SASL_SSL", kafka_sasl_username="vip-scoring")


async def test_the_real_aiokafka_clients_accept_the_arguments() -> None:
    settings = _settings(**SASL)
    producer = create_producer(settings=settings)
    consumer = create_consumer(settings=settings)
    try:
        assert producer.client._security_protocol == "SASL_PLAINTEXT"
        assert consumer._client._sasl_plain_username == "vip-scoring"
    finally:
        await producer.stop()
        await consumer.stop()


# -- the production example ------------------------------------------------------------------------------


def _production() -> dict[str, Any]:
    loaded = yaml.safe_load((ROOT / "deploy" / "compose.production.yml").read_text(encoding="utf-8"))
    assert isinstance(loaded, dict)
    return loaded


def _base() -> dict[str, Any]:
    loaded = yaml.safe_load((ROOT / "docker-compose.yml").read_text(encoding="utf-8"))
    assert isinstance(loaded, dict)
    return loaded


def _variable(reference: str) -> str:
    assert reference.startswith("${") and ":?" in reference, reference
    return reference[2:].split(":?", 1)[0]


def test_the_production_broker_takes_only_scram_on_its_reachable_listeners() -> None:
    env = {**_base()["services"]["kafka"]["environment"], **_production()["services"]["kafka"]["environment"]}
    protocols = dict(entry.split(":") for entry in env["KAFKA_LISTENER_SECURITY_PROTOCOL_MAP"].split(","))
    listeners = {entry.split("://")[0]: entry.split("://")[1] for entry in env["KAFKA_LISTENERS"].split(",")}
    for name, address in listeners.items():
        if protocols[name] == "PLAINTEXT":
            assert address.startswith("127.0.0.1:"), f"{name} is unauthenticated and must stay on loopback"
        else:
            assert protocols[name] == "SASL_PLAINTEXT" or protocols[name] == "SASL_SSL", name
            jaas = env[f"KAFKA_LISTENER_NAME_{name}_SCRAM__SHA__512_SASL_JAAS_CONFIG"]
            assert "ScramLoginModule" in jaas
    assert env["KAFKA_SASL_ENABLED_MECHANISMS"] == "SCRAM-SHA-512"
    assert env["KAFKA_AUTHORIZER_CLASS_NAME"].endswith("StandardAuthorizer")
    assert env["KAFKA_ALLOW_EVERYONE_IF_NO_ACL_FOUND"] == "false"
    assert env["KAFKA_SUPER_USERS"] == "User:ANONYMOUS"
    bootstrap = _base()["services"]["scoring"]["environment"]["VIP_KAFKA_BOOTSTRAP_SERVERS"]
    internal = next(name for name, address in listeners.items() if address == f":{bootstrap.split(':')[1]}")
    assert protocols[internal].startswith("SASL_"), "the services' listener must authenticate"


def test_the_init_container_runs_the_script_in_the_brokers_namespace() -> None:
    init = _production()["services"]["kafka-init"]
    assert init["network_mode"] == "service:kafka"
    assert init["depends_on"]["kafka"]["condition"] == "service_healthy"
    host_path, container_path, _mode = init["volumes"][0].split(":")
    assert (ROOT / host_path) == SCRIPT and container_path in " ".join(init["entrypoint"])
    env = _production()["services"]["kafka"]["environment"]
    assert f"BROKER://{init['environment']['BOOTSTRAP']}" in env["KAFKA_LISTENERS"].split(",")


@pytest.mark.parametrize("client", [*(layout.name for layout in SERVICES), "topics", "dashboard"])
def test_each_client_authenticates_as_its_own_user_after_the_acls_exist(client: str) -> None:
    service = _production()["services"][client]
    env = service["environment"]
    assert env["VIP_KAFKA_SECURITY_PROTOCOL"] == "SASL_PLAINTEXT"
    assert env["VIP_KAFKA_SASL_MECHANISM"] == "SCRAM-SHA-512"
    assert env["VIP_KAFKA_SASL_USERNAME"] == f"vip-{client}"
    assert _variable(env["VIP_KAFKA_SASL_PASSWORD"]) == f"VIP_KAFKA_{client.upper()}_PASSWORD"
    assert service["depends_on"]["kafka-init"]["condition"] == "service_completed_successfully"


def _run_script(tmp_path: Path) -> tuple[dict[str, str], set[tuple[str, str, str, str]]]:
    """Runs the init script with stand-in tools: the SCRAM users (name -> password) and the ACLs."""
    bash = shutil.which("bash")
    assert bash is not None
    log = tmp_path / "calls"
    for tool in ("kafka-configs.sh", "kafka-acls.sh"):
        stand_in = tmp_path / tool
        stand_in.write_text(f'#!/bin/sh\nprintf "%s\\n" {tool} "$@" END >> "{log}"\n')
        stand_in.chmod(0o755)
    init_env = _production()["services"]["kafka-init"]["environment"]
    passwords = {name: f"password-of-{name}" for name in init_env if name.endswith("_PASSWORD")}
    result = subprocess.run(
        [bash, str(SCRIPT)], env={"PATH": os.environ["PATH"], "KAFKA_BIN": str(tmp_path), **passwords},
        capture_output=True, text=True, timeout=60, check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    users: dict[str, str] = {}
    acls: set[tuple[str, str, str, str]] = set()
    for call in log.read_text().split("\nEND\n"):
        if not call.strip():
            continue
        tool, *argv = call.splitlines()
        options = {arg: value for arg, value in zip(argv, [*argv[1:], ""], strict=True) if arg.startswith("--")}
        assert options["--bootstrap-server"] == init_env["BOOTSTRAP"]
        if tool == "kafka-configs.sh":
            config = options["--add-config"]
            assert config.startswith("SCRAM-SHA-512=[") and options["--entity-type"] == "users", shlex.join(argv)
            users[options["--entity-name"]] = config.split("password=", 1)[1].rstrip("]")
        else:
            kind = "topic" if "--topic" in options else "group"
            acls.add((options["--allow-principal"], options["--operation"], kind, options[f"--{kind}"]))
    return users, acls


def test_each_scram_user_gets_the_password_its_client_is_given(tmp_path: Path) -> None:
    users, _acls = _run_script(tmp_path)
    production = _production()["services"]
    clients = [*(layout.name for layout in SERVICES), "topics", "dashboard"]
    for client in clients:
        variable = _variable(production[client]["environment"]["VIP_KAFKA_SASL_PASSWORD"])
        assert users[f"vip-{client}"] == f"password-of-{variable}"
    assert len(set(users.values())) == len(users), "every user has a password of its own"


@pytest.mark.parametrize("layout", SERVICES, ids=lambda layout: layout.name)
def test_each_service_may_read_what_it_consumes_and_write_what_it_publishes_and_nothing_else(
    tmp_path: Path, layout: Any
) -> None:
    _users, acls = _run_script(tmp_path)
    name = layout.name
    granted = {(operation, kind, resource) for principal, operation, kind, resource in acls
               if principal == f"User:vip-{name}"}
    group = ServiceSettings(service_name=name, database_url="x", http_port=1).group_id
    expected = (
        {("Read", "topic", topic) for topic in CONSUMES[name]}
        | {("Read", "group", group)}
        | {("Write", "topic", topic) for topic in PUBLISHES[name]}
        | {("Write", "topic", dead_letter_topic_for(topic)) for topic in CONSUMES[name]}
    )
    assert granted == expected


def test_the_topics_user_creates_every_topic_and_the_dashboard_reads_only_dead_letters(tmp_path: Path) -> None:
    _users, acls = _run_script(tmp_path)
    creatable = {resource for principal, operation, _kind, resource in acls
                 if principal == "User:vip-topics" and operation == "Create"}
    assert creatable == set(all_topics())
    dashboard = {(operation, resource) for principal, operation, _kind, resource in acls
                 if principal == "User:vip-dashboard"}
    assert dashboard == {("Read", topic) for topic in all_topics() if topic.endswith(".dlq")}
    assert all(principal != "User:ANONYMOUS" for principal, *_rest in acls)
