"""The dashboard against hostile input, in-process: a large login body is cut off while it streams,
login attempts are limited per client address, cookies are Secure off loopback, and a POST from
another site is refused."""

import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest

from dashboard.app import create_app
from dashboard.config import DashboardSettings
from dashboard.guards import AttemptLimiter, is_loopback
from dashboard.sessions import COOKIE

FIVE_MB = 5 * 1024 * 1024
CHUNK = 64 * 1024


def _settings(**overrides: Any) -> DashboardSettings:
    nobody = "http://127.0.0.1:9"  # discard port: nothing answers
    values: dict[str, Any] = {
        "api_tokens": "t-ops=ops,t-cc=call_center", "kafka_bootstrap_servers": "127.0.0.1:9",
        "scoring_url": nobody, "tiering_url": nobody, "assignment_url": nobody, "entitlements_url": nobody,
    }
    return DashboardSettings(**(values | overrides))


@asynccontextmanager
async def _dashboard(
    settings: DashboardSettings, *, addresses: tuple[str, ...] = ("127.0.0.1",)
) -> AsyncIterator[list[httpx.AsyncClient]]:
    """One app, one client per source address."""
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        clients = [
            httpx.AsyncClient(transport=httpx.ASGITransport(app=app, client=(address, 40000)),
                              base_url="http://dashboard.test")
            for address in addresses
        ]
        try:
            yield clients
        finally:
            for client in clients:
                await client.aclose()


class _Body:
    """A request body of `total` bytes sent in chunks, counting how many chunks the server pulled."""

    def __init__(self, total: int) -> None:
        self.total = total
        self.pulled = 0

    async def __aiter__(self) -> AsyncIterator[bytes]:
        sent = 0
        first = b"token=t-ops&padding="
        while sent < self.total:
            self.pulled += 1
            chunk = first if sent == 0 else b"x" * CHUNK
            sent += len(chunk)
            yield chunk


async def test_a_five_megabyte_login_body_is_refused_after_the_first_chunks_without_reading_the_rest() -> None:
    body = _Body(FIVE_MB)
    async with _dashboard(_settings()) as (client,):
        started = time.perf_counter()
        answer = await client.post(
            "/login", content=body, headers={"Content-Type": "application/x-www-form-urlencoded"}
        )
        elapsed = time.perf_counter() - started
    assert answer.status_code == 413
    assert "too large" in answer.text
    assert COOKIE not in answer.headers.get("set-cookie", "")
    assert body.pulled <= 2, f"the server read {body.pulled} chunks of a body it had to refuse"
    assert elapsed < 0.5


async def test_a_declared_length_over_the_cap_is_refused_before_any_byte_is_read() -> None:
    body = _Body(FIVE_MB)
    async with _dashboard(_settings()) as (client,):
        answer = await client.post("/login", content=body, headers={
            "Content-Type": "application/x-www-form-urlencoded", "Content-Length": str(FIVE_MB),
        })
    assert answer.status_code == 413
    assert body.pulled == 0


async def test_a_login_body_at_the_cap_is_still_read() -> None:
    async with _dashboard(_settings(login_body_max_bytes=64)) as (client,):
        answer = await client.post("/login", data={"token": "t-ops", "pad": "x" * 30})
    assert answer.status_code == 303


async def test_the_eleventh_login_attempt_in_a_minute_from_one_address_answers_429() -> None:
    async with _dashboard(_settings(), addresses=("10.0.0.1", "10.0.0.2")) as (guesser, other):
        answers = [(await guesser.post("/login", data={"token": f"guess-{n}"})).status_code for n in range(10)]
        assert answers == [401] * 10
        limited = await guesser.post("/login", data={"token": "t-ops"})
        assert limited.status_code == 429
        assert 0 < int(limited.headers["retry-after"]) <= 60
        assert COOKIE not in limited.headers.get("set-cookie", "")
        assert (await other.post("/login", data={"token": "t-ops"})).status_code == 303


def test_attempts_count_again_once_the_window_has_passed() -> None:
    now = [1000.0]
    limiter = AttemptLimiter(per_window=2, window_s=60.0, clock=lambda: now[0])
    assert limiter.retry_after("a") is None
    now[0] += 30
    assert limiter.retry_after("a") is None
    assert limiter.retry_after("a") == pytest.approx(30.0)
    now[0] += 30.5  # the first attempt has left the window
    assert limiter.retry_after("a") is None
    assert limiter.retry_after("a") is not None


def test_the_limiter_remembers_a_bounded_number_of_addresses() -> None:
    limiter = AttemptLimiter(per_window=1, max_clients=100)
    for n in range(10_000):
        limiter.retry_after(f"10.0.{n // 256}.{n % 256}")
    assert limiter.retry_after("10.0.39.15") is not None  # among the most recent: still limited
    assert len(limiter._attempts) <= 100


@pytest.mark.parametrize(
    ("host", "override", "secure"),
    [("127.0.0.1", None, False), ("localhost", None, False), ("::1", None, False),
     ("0.0.0.0", None, True), ("dashboard.internal", None, True),
     ("0.0.0.0", False, False), ("127.0.0.1", True, True)],
)
async def test_session_cookies_are_secure_unless_bound_to_loopback(
    host: str, override: bool | None, secure: bool
) -> None:
    async with _dashboard(_settings(http_host=host, cookie_secure=override)) as (client,):
        answer = await client.post("/login", data={"token": "t-ops"})
    assert answer.status_code == 303
    assert ("secure" in answer.headers["set-cookie"].lower().split("; ")) is secure


def test_loopback_addresses() -> None:
    assert is_loopback("127.0.0.2") and is_loopback("[::1]") and is_loopback("LOCALHOST")
    assert not is_loopback("0.0.0.0") and not is_loopback("10.1.2.3") and not is_loopback("")


@pytest.mark.parametrize(
    "headers",
    [{"Origin": "https://evil.example"}, {"Origin": "null"}, {"Origin": "http://dashboard.test.evil.example"},
     {"Sec-Fetch-Site": "cross-site"}, {"Sec-Fetch-Site": "same-site"},
     {"Sec-Fetch-Site": "cross-site", "Origin": "http://dashboard.test"}],
)
async def test_a_cross_site_post_is_refused_with_403(headers: dict[str, str]) -> None:
    async with _dashboard(_settings()) as (client,):
        login = await client.post("/login", data={"token": "t-ops"}, headers=headers)
        assert login.status_code == 403
        assert login.headers["content-type"] == "application/problem+json"
        assert login.json()["reason"] == "cross_site"
        assert COOKIE not in login.headers.get("set-cookie", "")
        await client.post("/login", data={"token": "t-ops"})
        assert (await client.post("/logout", headers=headers)).status_code == 403
        assert (await client.get("/api/overview")).status_code == 200  # the forged logout did nothing


@pytest.mark.parametrize(
    "headers", [{"Origin": "http://dashboard.test"}, {"Sec-Fetch-Site": "same-origin"}, {}],
)
async def test_a_same_origin_post_or_one_from_no_browser_is_let_through(headers: dict[str, str]) -> None:
    async with _dashboard(_settings()) as (client,):
        assert (await client.post("/login", data={"token": "t-ops"}, headers=headers)).status_code == 303
