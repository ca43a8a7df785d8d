"""The customer page (issue 16 item 4) in a real headless Chromium against `vip up` with the example
story in it: a call-center user logs in through the form, searches a customer of examples/events.jsonl,
sees the figures the services' APIs answer, records a redemption; another user reverses it with a
reason; an as-of date shows the standing decided for that day (issue 16 item 2). The screenshot is
saved to docs/customer-page.png (the README shows it)."""

import hashlib
import uuid
from collections.abc import Iterator
from datetime import date, timedelta
from typing import Any

import httpx
import pytest

from tests.e2e.platform import ROOT, Platform, eventually, running_platform, vip

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
SUFFIX = uuid.uuid4().hex[:8]
CALL_CENTER, SUPERVISOR, HQ = (f"{role}-{SUFFIX}" for role in ("cc", "sup", "hq"))
TOKENS = f"{CALL_CENTER}=call_center,{SUPERVISOR}=ops+call_center,{HQ}=hq_customer_service"
CUSTOMER = "C000982"  # Platinum (72,000 points) from 2026-05-20, when the second policy's points counted

pytestmark = pytest.mark.e2e


def _user_id(token: str) -> str:
    return "user-" + hashlib.sha256(token.encode()).hexdigest()[:12]


def _get(url: str, token: str = CALL_CENTER) -> Any:
    answer = httpx.get(url, headers={"Authorization": f"Bearer {token}"}, timeout=10)
    assert answer.status_code == 200, (url, answer.status_code, answer.text)
    return answer.json()


def _post(url: str, body: dict[str, Any], token: str = HQ) -> httpx.Response:
    return httpx.post(url, json=body, headers={"Authorization": f"Bearer {token}"}, timeout=10)


@pytest.fixture(scope="module")
def platform(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Platform]:
    if not (ROOT / "examples" / "events.jsonl").exists() or not __import__("os").path.exists(CHROMIUM):
        pytest.fail(f"{CHROMIUM} or examples/events.jsonl is missing")
    with running_platform(tmp_path_factory.mktemp("vip-up-customer-page"), tokens=TOKENS) as running:
        done = vip("publish", str(ROOT / "examples" / "events.jsonl"), "--bootstrap-servers", running.bootstrap_servers)
        assert done.returncode == 0, done.stdout + done.stderr
        added = _post(f"{running.entitlements}/v1/vendors", {"vendor_id": "V-BOOKS", "name": "Books & Co"})
        assert added.status_code == 201, added.text
        signed = _post(f"{running.entitlements}/v1/contracts",
                       {"service_code": "vip_reading", "vendor_id": "V-BOOKS", "unit_cost": "88.00"})
        assert signed.status_code == 201, signed.text
        eventually(f"{CUSTOMER} is Platinum with a representative", lambda: (
            (found := httpx.get(f"{running.entitlements}/v1/customers/{CUSTOMER}",
                                headers={"Authorization": f"Bearer {CALL_CENTER}"}, timeout=5)).status_code == 200
            and found.json()["tier"] == "platinum" and found.json()["representative"] is not None
        ))
        yield running


def _figure(page: Any, name: str) -> str:
    return str(page.text_content(f'[data-figure="{name}"]')).strip()


def _table(page: Any, name: str) -> list[list[str]]:
    found: list[list[str]] = page.eval_on_selector_all(
        f'[data-table="{name}"] tr', "rows => rows.map(r => [...r.cells].map(c => c.textContent.trim()))"
    )
    return found


def _log_in(page: Any, platform: Platform, token: str) -> None:
    page.goto(platform.dashboard + "/")
    page.fill("#token", token)
    page.click("button[type=submit]")


def _show(page: Any, *, as_of: str = "") -> None:
    page.fill("#customer-id", CUSTOMER)
    page.fill("#as-of", as_of)
    page.click("#search button[type=submit]")
    page.wait_for_function(
        "expected => document.getElementById('status').textContent.includes(expected)",
        arg=f"shown {'as of ' + as_of if as_of else 'today'}", timeout=20_000,
    )


BASE = f"/v1/customers/{CUSTOMER}"


def _figures_are_the_services_answers(page: Any, platform: Platform) -> None:
    customer = _get(f"{platform.entitlements}{BASE}")
    points = _get(f"{platform.scoring}{BASE}/points")
    decisions = _get(f"{platform.tiering}{BASE}/tier-history")["decisions"]
    assert (_figure(page, "tier"), _figure(page, "points")) == (customer["tier"], customer["points"])
    assert _figure(page, "representative").startswith(customer["representative"]["name"])
    assert _figure(page, "threshold-gold") == "30000" and _figure(page, "threshold-standard") == "2015"
    assert _figure(page, "decision-ruleset") == decisions[0]["ruleset_version"]
    assert [row[0] for row in _table(page, "policies")] == [p["policy_no"] for p in points["policies"]]
    assert [row[4] for row in _table(page, "policies")] == [p["points"] for p in points["policies"]]
    assert [row[0] for row in _table(page, "decisions")] == [d["effective_at"] for d in decisions]
    listed = _get(f"{platform.entitlements}{BASE}/entitlements")["entitlements"]
    assert len(_table(page, "entitlements")) == len(listed)
    assert page.is_hidden("#duties")  # assignment does not answer work items in this branch


def _redeemed_from_the_page(page: Any, platform: Platform) -> str:
    """A value-added use recorded by the call-center user: vendor and cost as the contract says."""
    page.click('tr[data-code="vip_reading"] button[data-action="redeem"]')
    page.wait_for_function("() => document.getElementById('status').textContent.includes('redeemed')")
    [redemption] = _get(f"{platform.entitlements}{BASE}/redemptions")["redemptions"]
    row = page.locator(f'tr[data-redemption="{redemption["redemption_id"]}"]')
    assert row.locator("td").all_text_contents()[1:5] == ["vip_reading", "V-BOOKS", "88.00", _user_id(CALL_CENTER)]
    assert row.locator('button[data-action="reverse"]').count() == 0  # not the redeemer's to reverse
    own = page.evaluate(
        """async (path) => { const r = await fetch(path, {method: 'POST',
             headers: {'Content-Type': 'application/json'}, body: JSON.stringify({reason: 'mine'})});
             return [r.status, (await r.json()).reason]; }""",
        f"/api/customers/{CUSTOMER}/redemptions/{redemption['redemption_id']}/reversal",
    )
    assert own == [403, "own_redemption"]
    reading = _entitlements(platform)["vip_reading"]
    assert reading["used"] == 1 and reading["remaining"] == 0
    return str(redemption["redemption_id"])


def _entitlements(platform: Platform) -> dict[str, dict[str, Any]]:
    return {e["code"]: e for e in _get(f"{platform.entitlements}{BASE}/entitlements")["entitlements"]}


def _reversed_by_another_user(page: Any, platform: Platform, redemption_id: str) -> None:
    page.click("header form button[type=submit]")  # log out
    _log_in(page, platform, SUPERVISOR)
    page.goto(f"{platform.dashboard}/customers?customer_id={CUSTOMER}")
    page.wait_for_function("() => document.getElementById('status').textContent.includes('shown')")
    page.click(f'tr[data-redemption="{redemption_id}"] button[data-action="reverse"]')
    page.fill("#reverse-reason", "customer cancelled the order")
    page.click("#reverse-form button[type=submit]")
    page.wait_for_function("() => document.getElementById('status').textContent.includes('reversed')")
    [reversed_] = _get(f"{platform.entitlements}{BASE}/redemptions")["redemptions"]
    assert (reversed_["reversed_by"], reversed_["reversal_reason"]) == (
        _user_id(SUPERVISOR), "customer cancelled the order"
    )
    assert "customer cancelled the order" in " ".join(_table(page, "redemptions")[0])
    assert _entitlements(platform)["vip_reading"]["remaining"] == 1


def test_a_call_center_user_reads_the_customer_redeems_and_another_user_reverses_then_looks_back(
    platform: Platform,
) -> None:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            context = chromium.new_context(viewport={"width": 1400, "height": 1500})
            page = context.new_page()
            errors: list[str] = []
            page.on("pageerror", lambda error: errors.append(str(error)))
            page.on("console", lambda message: message.type == "error" and errors.append(message.text))

            _log_in(page, platform, CALL_CENTER)
            page.wait_for_url("**/customers")
            _show(page)
            _figures_are_the_services_answers(page, platform)
            redemption_id = _redeemed_from_the_page(page, platform)
            _reversed_by_another_user(page, platform, redemption_id)

            # Looking back: the day before Platinum took effect, answered by the decision tiering made last
            # among those effective by then (its history is newest first), as the API answers it.
            decisions = _get(f"{platform.tiering}{BASE}/tier-history")["decisions"]
            platinum_from = min(date.fromisoformat(d["effective_at"]) for d in decisions if d["tier"] == "platinum")
            as_of = (platinum_from - timedelta(days=1)).isoformat()
            held = next(d for d in decisions if d["effective_at"] <= as_of)
            _show(page, as_of=as_of)
            then = _get(f"{platform.entitlements}{BASE}?as_of={as_of}")
            assert (then["tier"], then["points"], then["as_of"]) == (held["tier"], held["points"], as_of), decisions
            assert then["tier"] is None, decisions  # not yet VIP: the second policy was still in its cooling-off
            assert _figure(page, "as-of-label") == f"as of {as_of}"
            assert (_figure(page, "tier"), _figure(page, "points")) == ("not VIP", then["points"])
            assert [row[0] for row in _table(page, "entitlements")] == [
                e["name"] for e in _get(f"{platform.entitlements}{BASE}/entitlements?as_of={as_of}")["entitlements"]
            ]
            assert page.locator('button[data-action="redeem"]').count() == 0  # no recording into the past
            page.screenshot(path=str(ROOT / "docs" / "customer-page.png"), full_page=True)
            # The only console error: the refused reversal by the redeemer, which the test asked for itself.
            assert errors == ["Failed to load resource: the server responded with a status of 403 (Forbidden)"]
        finally:
            chromium.close()
