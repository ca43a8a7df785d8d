"""The dashboard app on its own (no platform): login and sessions, what it answers without one, its
security headers, and an overview that shows each unreachable source's reason instead of failing."""

from collections.abc import AsyncIterator

import httpx
import pytest

from cli.launch import free_port
from dashboard.app import create_app
from dashboard.config import DashboardSettings
from dashboard.sessions import COOKIE


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    nobody = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    settings = DashboardSettings(
        api_tokens="t-ops=ops,t-cc=call_center",  # type: ignore[arg-type]
        kafka_bootstrap_servers=f"127.0.0.1:{free_port()}",
        scoring_url=nobody, tiering_url=nobody, assignment_url=nobody, entitlements_url=nobody,
    )
    app = create_app(settings)
    async with app.router.lifespan_context(app), httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://dashboard.test"
    ) as http:
        yield http


async def test_without_a_session_the_page_is_the_login_form_and_the_data_is_refused(client: httpx.AsyncClient) -> None:
    page = await client.get("/")
    assert page.status_code == 200
    assert '<form method="post" action="/login"' in page.text
    assert "default-src 'self'" in page.headers["content-security-policy"]
    assert (await client.get("/api/overview")).status_code == 401


async def test_a_token_without_the_ops_role_is_refused_without_a_cookie(client: httpx.AsyncClient) -> None:
    refused = await client.post("/login", data={"token": "t-cc"})
    assert refused.status_code == 401
    assert "does not open the dashboard" in refused.text
    assert COOKIE not in refused.headers.get("set-cookie", "")


async def test_an_unknown_token_and_a_token_without_the_role_get_the_same_refusal(client: httpx.AsyncClient) -> None:
    wrong_role = await client.post("/login", data={"token": "t-cc"})
    unknown = await client.post("/login", data={"token": "t-nobody"})
    assert (wrong_role.status_code, wrong_role.text) == (unknown.status_code, unknown.text)


@pytest.mark.parametrize("form", [{"token": "tök€n-😀"}, {"token": "t-ops\u0000"}])
async def test_a_token_with_any_characters_is_refused_with_401_not_an_error(
    client: httpx.AsyncClient, form: dict[str, str]
) -> None:
    assert (await client.post("/login", data=form)).status_code == 401


async def test_a_login_body_that_is_not_utf8_is_refused_with_401(client: httpx.AsyncClient) -> None:
    answer = await client.post(
        "/login", content=b"token=%FF%FE%80\xff\xfe", headers={"Content-Type": "application/x-www-form-urlencoded"}
    )
    assert answer.status_code == 401


async def test_login_sets_an_httponly_strict_cookie_and_redirects_without_the_token(client: httpx.AsyncClient) -> None:
    answer = await client.post("/login", data={"token": "t-ops"})
    assert answer.status_code == 303
    assert answer.headers["location"] == "/"
    cookie = answer.headers["set-cookie"]
    assert cookie.startswith(f"{COOKIE}=")
    assert "HttpOnly" in cookie
    assert "SameSite=strict" in cookie or "SameSite=Strict" in cookie
    assert "t-ops" not in cookie
    page = await client.get("/")
    assert 'src="/static/vendor/chart.umd.min.js"' in page.text
    assert (await client.get("/static/vendor/chart.umd.min.js")).status_code == 200


async def test_the_overview_names_every_unreachable_source_and_still_answers(client: httpx.AsyncClient) -> None:
    await client.post("/login", data={"token": "t-ops"})
    overview = (await client.get("/api/overview")).json()
    assert set(overview["errors"]) == {
        "tiers", "honorary", "cooling_off", "representation", "unassigned", "representatives", "usage", "dead_letters",
    }
    assert "unreachable" in overview["errors"]["tiers"]
    assert overview["tiers"] is None
    assert [service["up"] for service in overview["pipeline"]["services"]] == [False] * 4


async def test_logging_out_ends_the_session(client: httpx.AsyncClient) -> None:
    await client.post("/login", data={"token": "t-ops"})
    assert (await client.post("/logout")).status_code == 303
    assert (await client.get("/api/overview")).status_code == 401
