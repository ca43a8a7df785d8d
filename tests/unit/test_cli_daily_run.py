"""`vip daily-run` against services answered in-process: per-service and per-step counts, the
service's own sentence and exit 1 on a refusal, today in the insurer's zone without --as-of; and
`vip up` warning about, and passing on, VIP_ALLOW_FUTURE_DAILY_RUN."""

import asyncio
import datetime as dt
import json
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner

import cli.up
from cli.children import UpOptions, child_env
from cli.daily_run import describe, insurer_today
from cli.layout import SERVICES_BY_NAME
from cli.main import cli as vip
from cli.startup import StartupError, banner, future_daily_run_warning

Handler = Callable[[httpx.Request], httpx.Response]
AHEAD = {
    "type": "about:blank", "title": "invalid request", "status": 422, "reason": "daily_run_date_ahead",
    "detail": "as_of 2099-01-01 is too far ahead: the latest allowed date is 2026-10-09 "
              "(today or tomorrow in the insurer's time zone)",
}


class _Services:
    """What `vip daily-run`'s HTTP client reaches instead of the network: `answer` per test."""

    def __init__(self) -> None:
        self.seen: list[httpx.Request] = []
        self.answer: Handler = lambda request: httpx.Response(500)

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.seen.append(request)
        return self.answer(request)


@pytest.fixture
def services(monkeypatch: pytest.MonkeyPatch) -> _Services:
    fake = _Services()
    real_client = httpx.Client
    monkeypatch.setattr(httpx, "Client", lambda **kw: real_client(transport=httpx.MockTransport(fake), **kw))
    for name in ("VIP_SCORING_URL", "VIP_TIERING_URL", "VIP_ASSIGNMENT_URL", "VIP_ENTITLEMENTS_URL",
                 "VIP_RULESET_PATH"):
        monkeypatch.delenv(name, raising=False)
    return fake


def _ok(request: httpx.Request) -> httpx.Response:
    as_of = json.loads(request.content)["as_of"]
    port = request.url.port
    steps = {8001: {"cooling_off_ends": 3}, 8002: {"tiers": 2, "honorary_expiries": 1},
             8003: {"departures_taken_effect": 1}, 8004: {"periods_rolled_over": 0}}[port or 0]
    return httpx.Response(200, json={"as_of": as_of, "changed": sum(steps.values()), "steps": steps})


def test_each_service_prints_its_total_then_each_step(services: _Services) -> None:
    services.answer = _ok
    result = CliRunner().invoke(vip, ["daily-run", "--as-of", "2026-10-08", "--token", "t"])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].split() == ["scoring", "2026-10-08", "changed", "3"]
    assert lines[1].split() == ["cooling_off_ends", "3"]
    assert lines[2].split() == ["tiering", "2026-10-08", "changed", "3"]
    assert [line.split() for line in lines[3:5]] == [["tiers", "2"], ["honorary_expiries", "1"]]
    assert lines[5].split() == ["assignment", "2026-10-08", "changed", "1"]
    assert lines[6].split() == ["departures_taken_effect", "1"]
    assert lines[7].split() == ["entitlements", "2026-10-08", "changed", "0"]
    assert [request.headers["authorization"] for request in services.seen] == ["Bearer t"] * 4


def test_a_refused_date_prints_the_services_detail_and_exits_1_without_running_the_next(
    services: _Services,
) -> None:
    services.answer = lambda _: httpx.Response(422, json=AHEAD, headers={"content-type": "application/problem+json"})
    result = CliRunner().invoke(vip, ["daily-run", "--as-of", "2099-01-01", "--token", "t"])
    assert result.exit_code == 1
    assert "scoring refused the daily run for 2099-01-01: as_of 2099-01-01 is too far ahead" in result.output
    assert "daily_run_date_ahead" in result.output
    assert "VIP_ALLOW_FUTURE_DAILY_RUN=true" in result.output
    assert '"type"' not in result.output  # the sentence, not the raw body
    assert len(services.seen) == 1


def test_a_refusal_without_a_problem_body_still_shows_what_came_back(services: _Services) -> None:
    services.answer = lambda _: httpx.Response(403, text="<html>forbidden by proxy</html>")
    result = CliRunner().invoke(vip, ["daily-run", "--as-of", "2026-10-08", "--token", "t"])
    assert result.exit_code == 1
    assert "HTTP 403" in result.output and "forbidden by proxy" in result.output


def test_without_as_of_the_run_is_for_today_in_the_insurers_zone(services: _Services) -> None:
    services.answer = _ok
    result = CliRunner().invoke(vip, ["daily-run", "--token", "t"])
    assert result.exit_code == 0, result.output
    today = insurer_today({})
    assert [json.loads(request.content)["as_of"] for request in services.seen] == [today.isoformat()] * 4


def test_today_is_the_insurers_date_not_the_machines() -> None:
    late_utc = dt.datetime(2026, 10, 8, 17, 30, tzinfo=dt.UTC)  # 01:30 on the 9th in Shanghai
    assert insurer_today({}, now=late_utc) == dt.date(2026, 10, 9)


def test_an_unreadable_ruleset_asks_for_as_of(tmp_path: Path) -> None:
    import click

    with pytest.raises(click.UsageError, match="no --as-of"):
        insurer_today({"VIP_RULESET_PATH": str(tmp_path / "missing.yaml")})


def test_a_body_of_the_older_shape_is_still_described() -> None:
    assert describe({"as_of": "2026-10-08", "upgraded": 2, "changed": 5}) == ["changed 5", "  upgraded 2"]


@pytest.mark.parametrize("value", ["true", "TRUE", "1", "yes", "on"])
def test_vip_up_warns_when_future_daily_runs_are_allowed(value: str) -> None:
    warning = future_daily_run_warning({"VIP_ALLOW_FUTURE_DAILY_RUN": value})
    assert warning is not None and warning.startswith("WARNING: VIP_ALLOW_FUTURE_DAILY_RUN is on")


@pytest.mark.parametrize("environ", [{}, {"VIP_ALLOW_FUTURE_DAILY_RUN": "false"}, {"VIP_ALLOW_FUTURE_DAILY_RUN": "0"}])
def test_vip_up_says_nothing_when_they_are_not(environ: dict[str, str]) -> None:
    assert future_daily_run_warning(environ) is None


def test_a_value_the_services_could_not_read_stops_vip_up() -> None:
    with pytest.raises(StartupError, match="neither true nor false"):
        future_daily_run_warning({"VIP_ALLOW_FUTURE_DAILY_RUN": "maybe"})


def test_the_services_get_the_setting_from_vip_ups_environment() -> None:
    env = child_env(
        base_env={"VIP_ALLOW_FUTURE_DAILY_RUN": "true"}, service=SERVICES_BY_NAME["scoring"],
        database_url="postgresql+asyncpg://u@/vip_scoring", bootstrap_servers="b:1", kafka_idempotence=None,
        http_port=8001, api_tokens="t=ops",
    )
    assert env["VIP_ALLOW_FUTURE_DAILY_RUN"] == "true"


async def test_the_warning_is_the_first_line_vip_up_prints(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cli.up, "_reap_leftovers", lambda report: None)
    lines: list[str] = []
    environ = {"VIP_ALLOW_FUTURE_DAILY_RUN": "true", "VIP_API_TOKENS": "not a token list"}  # stops before PostgreSQL
    loop = asyncio.get_running_loop()
    try:
        code = await cli.up.run_platform(UpOptions(data_dir=tmp_path / "data"), report=lines.append, environ=environ)
    finally:
        for signum in (2, 15):
            loop.remove_signal_handler(signum)
    assert code == 1
    assert lines[0].startswith("WARNING: VIP_ALLOW_FUTURE_DAILY_RUN is on")


def test_the_banner_repeats_the_warning(tmp_path: Path) -> None:
    from cli.tokens import TokenSet

    class _Postgres:
        description = "test PostgreSQL"

    text = banner(options=UpOptions(data_dir=tmp_path), postgres=_Postgres(), broker="b",  # type: ignore[arg-type]
                  tokens=TokenSet(api_tokens="t=ops", dev_token=None, source="env"), warnings=["WARNING: x"])
    assert "WARNING: x" in text.splitlines()
