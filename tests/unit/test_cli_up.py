"""`vip up` and `vip daily-run` decisions that need no process: tokens, back-off, child environments."""

import stat
import sys
from pathlib import Path

import click
import pytest

from cli.children import UpOptions, child_env, child_specs
from cli.daily_run import describe, resolve_token
from cli.layout import SERVICES, SERVICES_BY_NAME, service_base_url
from cli.postgres import asyncpg_database_url, libpq_database_url
from cli.supervisor import Backoff
from cli.tokens import (
    ROLES,
    TokenFormatError,
    load_or_create_tokens,
    parse_api_tokens,
    read_tokens_file,
)
from shared.auth import ROLES as CONTRACT_ROLES
from shared.auth import parse_api_tokens as service_parse_api_tokens


def test_roles_are_the_contracts() -> None:
    assert set(ROLES) == CONTRACT_ROLES


def test_tokens_file_is_created_once_and_reused(tmp_path: Path) -> None:
    path = tmp_path / "data" / "tokens.env"
    first = load_or_create_tokens(path=path, environ={})
    second = load_or_create_tokens(path=path, environ={})
    assert first.api_tokens == second.api_tokens
    assert first.dev_token == second.dev_token
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_generated_tokens_have_one_token_per_role_and_a_dev_token_with_all(tmp_path: Path) -> None:
    token_set = load_or_create_tokens(path=tmp_path / "tokens.env", environ={})
    tokens = parse_api_tokens(token_set.api_tokens)
    single = sorted(roles[0] for token, roles in tokens.items() if token != token_set.dev_token)
    assert single == sorted(ROLES)
    assert token_set.dev_token is not None
    assert set(tokens[token_set.dev_token]) == set(ROLES)
    assert len(set(tokens)) == len(ROLES) + 1


def test_generated_tokens_are_accepted_by_the_services_parser(tmp_path: Path) -> None:
    token_set = load_or_create_tokens(path=tmp_path / "tokens.env", environ={})
    principals = service_parse_api_tokens(token_set.api_tokens)
    assert token_set.dev_token is not None
    assert principals[token_set.dev_token].roles == CONTRACT_ROLES


def test_tokens_file_is_shell_sourceable_and_names_the_dev_token(tmp_path: Path) -> None:
    path = tmp_path / "tokens.env"
    token_set = load_or_create_tokens(path=path, environ={})
    text = path.read_text(encoding="utf-8")
    assert f"VIP_API_TOKENS={token_set.api_tokens}\n" in text
    assert f"VIP_TOKEN={token_set.dev_token}\n" in text
    assert read_tokens_file(path) == token_set


def test_tokens_from_the_environment_are_used_as_is_and_no_file_is_written(tmp_path: Path) -> None:
    path = tmp_path / "tokens.env"
    token_set = load_or_create_tokens(path=path, environ={"VIP_API_TOKENS": "abc=ops+admin,def=call_center"})
    assert token_set.api_tokens == "abc=ops+admin,def=call_center"
    assert token_set.dev_token is None
    assert not path.exists()


@pytest.mark.parametrize("value", ["abc", "abc=", "=ops", "abc=ops+wizard", "abc=ops,abc=admin"])
def test_malformed_api_tokens_are_refused(value: str) -> None:
    with pytest.raises(TokenFormatError):
        parse_api_tokens(value)


def test_backoff_doubles_from_half_a_second_to_thirty() -> None:
    backoff = Backoff()
    delays = [backoff.delay_after_exit(uptime_s=1.0) for _ in range(9)]
    assert delays == [0.5, 1.0, 2.0, 4.0, 8.0, 16.0, 30.0, 30.0, 30.0]


def test_backoff_starts_over_after_a_minute_up() -> None:
    backoff = Backoff()
    for _ in range(5):
        backoff.delay_after_exit(uptime_s=1.0)
    assert backoff.delay_after_exit(uptime_s=59.9) == 16.0
    assert backoff.delay_after_exit(uptime_s=60.0) == 0.5
    assert backoff.delay_after_exit(uptime_s=2.0) == 1.0


def _env(idempotence: bool | None) -> dict[str, str]:
    return child_env(
        base_env={"PATH": "/usr/bin", "VIP_KAFKA_IDEMPOTENCE": "inherited", "VIP_DATABASE_URL": "stale"},
        service=SERVICES_BY_NAME["tiering"],
        database_url="postgresql+asyncpg://postgres@/vip_tiering?host=/tmp/pg",
        bootstrap_servers="127.0.0.1:9092",
        kafka_idempotence=idempotence,
        http_port=8002,
        api_tokens="t=ops",
    )


def test_child_env_gives_the_service_its_own_settings() -> None:
    env = _env(False)
    assert env["VIP_DATABASE_URL"] == "postgresql+asyncpg://postgres@/vip_tiering?host=/tmp/pg"
    assert env["VIP_KAFKA_BOOTSTRAP_SERVERS"] == "127.0.0.1:9092"
    assert env["VIP_HTTP_PORT"] == "8002"
    assert env["VIP_API_TOKENS"] == "t=ops"
    assert env["VIP_KAFKA_IDEMPOTENCE"] == "false"
    assert env["PATH"] == "/usr/bin"


def test_child_env_leaves_idempotence_alone_for_an_external_kafka() -> None:
    assert _env(None)["VIP_KAFKA_IDEMPOTENCE"] == "inherited"


class _FakePostgres:
    description = "fake"

    def database_url(self, database: str) -> str:
        return f"postgresql+asyncpg://postgres@/{database}?host=/sock"


def test_child_specs_run_each_service_module_on_its_port_with_its_database(tmp_path: Path) -> None:
    from cli.tokens import TokenSet

    specs = child_specs(
        options=UpOptions(data_dir=tmp_path, http_port_base=9001),
        postgres=_FakePostgres(),  # type: ignore[arg-type]
        bootstrap_servers="127.0.0.1:9092",
        kafka_idempotence=False,
        tokens=TokenSet(api_tokens="t=ops", dev_token="t", source="test"),
        base_env={},
    )
    assert [spec.name for spec in specs] == ["scoring", "tiering", "assignment", "entitlements"]
    assert [spec.env["VIP_HTTP_PORT"] for spec in specs] == ["9001", "9002", "9003", "9004"]
    assert [spec.argv for spec in specs] == [(sys.executable, "-m", f"services.{s.name}.main") for s in SERVICES]
    assert specs[3].env["VIP_DATABASE_URL"] == "postgresql+asyncpg://postgres@/vip_entitlements?host=/sock"
    assert specs[0].log_path == tmp_path / "logs" / "scoring.log"


def test_database_urls_keep_the_unix_socket_and_drop_an_empty_password() -> None:
    embedded = "postgresql://postgres:@/postgres?host=/tmp/pgdata"
    assert asyncpg_database_url(embedded, database="vip_scoring") == (
        "postgresql+asyncpg://postgres@/vip_scoring?host=/tmp/pgdata"
    )
    external = "postgresql://vip:secret@db.internal:5433/postgres"
    assert asyncpg_database_url(external, database="vip_tiering") == (
        "postgresql+asyncpg://vip:secret@db.internal:5433/vip_tiering"
    )
    assert libpq_database_url(external, database="postgres") == external
    with pytest.raises(ValueError, match="not a PostgreSQL URL"):
        asyncpg_database_url("mysql://x@y/z", database="a")


def test_service_urls_follow_the_port_base_unless_overridden(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("VIP_TIERING_URL", raising=False)
    assert service_base_url(service=SERVICES_BY_NAME["tiering"], http_port_base=8001) == "http://127.0.0.1:8002"
    monkeypatch.setenv("VIP_TIERING_URL", "http://tiering.internal:80/")
    assert service_base_url(service=SERVICES_BY_NAME["tiering"], http_port_base=8001) == "http://tiering.internal:80"


def test_daily_run_token_comes_from_option_then_env_then_tokens_file(tmp_path: Path) -> None:
    token_set = load_or_create_tokens(path=tmp_path / "tokens.env", environ={})
    assert resolve_token(token="given", environ={"VIP_TOKEN": "env"}, data_dir=tmp_path) == "given"
    assert resolve_token(token=None, environ={"VIP_TOKEN": "env"}, data_dir=tmp_path) == "env"
    assert resolve_token(token=None, environ={}, data_dir=tmp_path) == token_set.dev_token
    with pytest.raises(click.UsageError, match="no token"):
        resolve_token(token=None, environ={}, data_dir=tmp_path / "elsewhere")


def test_daily_run_summary_puts_changed_first_then_the_steps() -> None:
    body = {"as_of": "2026-10-08", "steps": {"tiers": 2, "honorary_expiries": 3}, "changed": 5}
    assert [line.split() for line in describe(body)] == [["changed", "5"], ["tiers", "2"], ["honorary_expiries", "3"]]
