"""`vip daily-run` against services answered in-process: per-service and per-step counts, the
service's own sentence and exit 1 on a refusal, today in the insurer's zone without --as-of, the
wait for the pipeline to drain between services (`_Pipeline` moves the events one hop per reading of
the whole pipeline) and what moved downstream; and `vip up` warning about, and passing
on, VIP_ALLOW_FUTURE_DAILY_RUN."""

import asyncio
import datetime as dt
import json
from collections.abc import Callable
from pathlib import Path

import click
import httpx
import pytest
from click.testing import CliRunner

import cli.drain
import cli.up
from cli.children import UpOptions, child_env
from cli.daily_run import DAILY_RUN_ORDER, describe, insurer_today
from cli.drain import ServiceState, downstream, wait_until_drained
from cli.layout import SERVICES_BY_NAME
from cli.main import cli as vip
from cli.startup import StartupError, banner, future_daily_run_warning

Handler = Callable[[httpx.Request], httpx.Response]
AHEAD = {
    "type": "about:blank", "title": "invalid request", "status": 422, "reason": "daily_run_date_ahead",
    "detail": "as_of 2099-01-01 is too far ahead: the latest allowed date is 2026-10-09 "
              "(today or tomorrow in the insurer's time zone)",
}


class _Pipeline:
    """The four services' `GET /v1/ops/pipeline` over a tiny model of the platform: a daily run puts
    one event per change in the service's outbox; each full reading of the pipeline (entitlements is
    read last) moves every event one hop: an outbox is published into its consumers' lag, and each
    event behind is applied, causing one event in the consumer's outbox (entitlements publishes
    nothing). `stuck` stops everything where it is."""

    CONSUMERS = {"scoring": ("tiering",), "tiering": ("assignment", "entitlements"), "assignment": ("entitlements",)}
    PUBLISHES = {"scoring": "customer_scored", "tiering": "tier_decided", "assignment": "representative_changed"}

    def __init__(self) -> None:
        self.outbox = dict.fromkeys(DAILY_RUN_ORDER, 0)
        self.lag: dict[str, list[str]] = {name: [] for name in DAILY_RUN_ORDER}
        self.applied: dict[str, dict[str, int]] = {name: {} for name in DAILY_RUN_ORDER}
        self.published = dict.fromkeys(DAILY_RUN_ORDER, 0)
        self.stuck = False
        self.drained_when_run: dict[str, bool] = {}

    def drained(self) -> bool:
        return not any(self.outbox.values()) and not any(self.lag.values())

    def ran(self, request: httpx.Request) -> None:
        name = NAMES_BY_PORT[request.url.port or 0]
        self.drained_when_run[name] = self.drained()
        if name in self.PUBLISHES:
            self.outbox[name] += sum(_STEPS[name].values())

    def answer(self, request: httpx.Request) -> httpx.Response:
        name = NAMES_BY_PORT[request.url.port or 0]
        body = {
            "service": name, "drained": not self.outbox[name] and not self.lag[name], "lag": len(self.lag[name]),
            "outbox_backlog": self.outbox[name], "partitions": [], "counting_since": "2026-10-08T00:00:00Z",
            "applied": {"topic": self.applied[name]}, "published": {"topic": self.published[name]},
        }
        if name == DAILY_RUN_ORDER[-1] and not self.stuck:
            self._one_hop()
        return httpx.Response(200, json=body)

    def _one_hop(self) -> None:
        arriving: dict[str, list[str]] = {name: [] for name in DAILY_RUN_ORDER}
        for name in DAILY_RUN_ORDER:
            sent, self.outbox[name] = self.outbox[name], 0
            self.published[name] += sent
            for consumer in self.CONSUMERS.get(name, ()):
                arriving[consumer] += [self.PUBLISHES[name]] * sent
            for event_type in self.lag[name]:
                self.applied[name][event_type] = self.applied[name].get(event_type, 0) + 1
                self.outbox[name] += 1 if name in self.PUBLISHES else 0
        self.lag = arriving


class _Services:
    """What `vip daily-run`'s HTTP client reaches instead of the network: `answer` per test for the
    daily runs (`seen`), `pipeline` for `GET /v1/ops/pipeline` (drained and idle unless a test says)."""

    def __init__(self) -> None:
        self.seen: list[httpx.Request] = []
        self.answer: Handler = lambda request: httpx.Response(500)
        self.pipeline = _Pipeline()

    def __call__(self, request: httpx.Request) -> httpx.Response:
        if request.url.path == "/v1/ops/pipeline":
            return self.pipeline.answer(request)
        self.seen.append(request)
        self.pipeline.ran(request)
        return self.answer(request)


@pytest.fixture
def services(monkeypatch: pytest.MonkeyPatch) -> _Services:
    fake = _Services()
    monkeypatch.setattr(cli.drain, "POLL_S", 0.0)
    real_client = httpx.Client
    monkeypatch.setattr(httpx, "Client", lambda **kw: real_client(transport=httpx.MockTransport(fake), **kw))
    for name in ("VIP_SCORING_URL", "VIP_TIERING_URL", "VIP_ASSIGNMENT_URL", "VIP_ENTITLEMENTS_URL",
                 "VIP_RULESET_PATH"):
        monkeypatch.delenv(name, raising=False)
    return fake


NAMES_BY_PORT = dict(zip((8001, 8002, 8003, 8004), DAILY_RUN_ORDER, strict=True))
_STEPS = {"scoring": {"cooling_off_ends": 3}, "tiering": {"tiers": 2, "honorary_expiries": 1},
          "assignment": {"departures_taken_effect": 1}, "entitlements": {"periods_rolled_over": 0}}
"""What each fake service's daily run changed; each change is one event published (none by entitlements)."""


def _ok(request: httpx.Request) -> httpx.Response:
    as_of = json.loads(request.content)["as_of"]
    steps = _STEPS[NAMES_BY_PORT[request.url.port or 0]]
    return httpx.Response(200, json={"as_of": as_of, "changed": sum(steps.values()), "steps": steps})


def test_each_service_prints_its_total_then_each_step(services: _Services) -> None:
    services.answer = _ok
    result = CliRunner().invoke(vip, ["daily-run", "--as-of", "2026-10-08", "--token", "t"])
    assert result.exit_code == 0, result.output
    lines = [line for line in result.output.splitlines()
             if not line.lstrip().startswith(("waiting", "summary", "downstream:"))]
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


def test_each_service_runs_only_once_the_events_of_the_one_before_have_landed(services: _Services) -> None:
    services.answer = _ok
    result = CliRunner().invoke(vip, ["daily-run", "--as-of", "2026-10-08", "--token", "t"])
    assert result.exit_code == 0, result.output
    assert services.pipeline.drained_when_run == dict.fromkeys(DAILY_RUN_ORDER, True)
    assert services.pipeline.drained()
    assert "waiting for the pipeline to drain: scoring 3 to publish" in result.output
    [tiering_started] = [i for i, line in enumerate(result.output.splitlines()) if line.startswith("tiering")]
    assert result.output.splitlines()[tiering_started - 1].split() == [
        "downstream:", "scoring", "changed", "3,", "published", "3", "→", "tiering", "applied", "3", "customer_scored,",
        "published", "3", "→", "assignment", "applied", "3", "tier_decided,", "published", "3", "→",
        "entitlements", "applied", "3", "representative_changed", "+", "3", "tier_decided",
    ]


def test_the_summary_says_what_changed_downstream_not_only_in_each_service(services: _Services) -> None:
    services.answer = _ok
    result = CliRunner().invoke(vip, ["daily-run", "--as-of", "2026-10-08", "--token", "t"])
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[-1] == (
        "summary 2026-10-08: scoring changed 3, published 3 → tiering applied 3 customer_scored, changed 3, "
        "published 6 → assignment applied 6 tier_decided, changed 1, published 7 → "
        "entitlements applied 7 representative_changed + 6 tier_decided, changed 0"
    )


def test_a_pipeline_that_does_not_drain_stops_the_run_before_the_next_service(services: _Services) -> None:
    def stick_after_scoring(request: httpx.Request) -> httpx.Response:
        services.pipeline.stuck = True
        return _ok(request)

    services.answer = stick_after_scoring
    result = CliRunner().invoke(vip, ["daily-run", "--as-of", "2026-10-08", "--token", "t", "--drain-timeout", "0.3"])
    assert result.exit_code == 1
    assert "the pipeline did not drain within 0.3s after scoring's daily run: scoring 3 to publish" in result.output
    assert "run the same date again" in result.output
    assert [NAMES_BY_PORT[request.url.port or 0] for request in services.seen] == ["scoring"]


def test_events_still_arriving_are_waited_for_before_the_first_service(services: _Services) -> None:
    services.answer = _ok
    services.pipeline.lag["tiering"] = ["customer_scored"] * 5
    result = CliRunner().invoke(vip, ["daily-run", "--as-of", "2026-10-08", "--token", "t"])
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[0].strip() == "waiting for the pipeline to drain: tiering 5 behind"
    assert services.pipeline.drained_when_run["scoring"] is True


def test_the_wait_reports_progress_every_few_seconds_then_gives_up() -> None:
    now = [0.0]
    lines: list[str] = []
    behind = [ServiceState(name="scoring", drained=True, lag=0, outbox_backlog=0, counting_since="s"),
              ServiceState(name="tiering", drained=False, lag=120, outbox_backlog=4, counting_since="s"),
              ServiceState(name="assignment", drained=False, lag=None, outbox_backlog=0, counting_since="s")]

    def sleep(seconds: float) -> None:
        now[0] += 0.5

    with pytest.raises(click.ClickException, match=r"did not drain within 5s after tiering's daily run"):
        wait_until_drained(lambda: behind, timeout_s=5, report=lines.append, after="tiering's daily run",
                           clock=lambda: now[0], sleep=sleep)
    expected = "waiting for the pipeline to drain: tiering 120 behind, tiering 4 to publish, assignment not reading yet"
    assert lines == [expected] * 3  # at 0, 2 and 4 seconds


def test_a_service_restarted_meanwhile_counts_from_its_restart() -> None:
    before = ServiceState(name="tiering", drained=True, lag=0, outbox_backlog=0, counting_since="a",
                          applied={"customer_scored": 50}, published=50)
    after = ServiceState(name="tiering", drained=True, lag=0, outbox_backlog=0, counting_since="b",
                         applied={"customer_scored": 2}, published=2)
    assert downstream([before], [after], changed={}) == "tiering applied 2 customer_scored, published 2"
    assert downstream([before], [before], changed={}) == "nothing moved"


def test_a_service_that_does_not_serve_the_pipeline_stops_the_run(services: _Services) -> None:
    services.answer = _ok
    services.pipeline.answer = lambda request: httpx.Response(404, json={"detail": "Not Found"})  # type: ignore[method-assign]
    result = CliRunner().invoke(vip, ["daily-run", "--as-of", "2026-10-08", "--token", "t"])
    assert result.exit_code == 1
    assert "scoring answered http://127.0.0.1:8001/v1/ops/pipeline with HTTP 404" in result.output
    assert services.seen == []
