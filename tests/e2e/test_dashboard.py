"""The operations dashboard in a real headless Chromium (Debian's `chromium`, driven by Playwright)
against a running platform with data in it.

`vip up` starts the platform and the dashboard; we publish the example story plus a VIP nobody can
represent, garbage for the dead-letter topic, file honorary applications, record redemptions, then
log in through the form, check every view's figures against the services' APIs and the broker, and
save a screenshot under `test-output/`.
"""

import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.e2e.platform import ROOT, Platform, eventually, running_platform, vip

OUTPUT = ROOT / "test-output"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
    "--disable-sync", "--no-first-run",
]
SUFFIX = uuid.uuid4().hex[:8]
OPS, APPLICANT, BRANCH_OPS, HQ, CALL_CENTER = (f"{role}-{SUFFIX}" for role in ("ops", "app", "bo", "hq", "cc"))
TOKENS = (
    f"{OPS}=ops+call_center+admin,{APPLICANT}=honorary_applicant,{BRANCH_OPS}=branch_ops,"
    f"{HQ}=hq_customer_service,{CALL_CENTER}=call_center"
)
UNREPRESENTED = "C009901"

pytestmark = pytest.mark.e2e


def _call(method: str, url: str, token: str, **kwargs: Any) -> httpx.Response:
    return httpx.request(method, url, headers={"Authorization": f"Bearer {token}", **kwargs.pop("headers", {})},
                         timeout=10, **kwargs)


def _get_json(url: str, token: str = OPS) -> Any:
    response = _call("GET", url, token)
    assert response.status_code == 200, (url, response.status_code, response.text)
    return response.json()





def _vip_publish(platform: Platform, path: Path, *extra: str) -> None:
    done = vip("publish", str(path), "--bootstrap-servers", platform.bootstrap_servers, *extra)
    assert done.returncode == 0, done.stdout + done.stderr


def _policy(policy_no: str, holder_id: str, *, channel: str, agent_id: str, premium: str) -> dict[str, Any]:
    return {
        "event_id": f"dash-{policy_no}-{SUFFIX}", "event_type": "new_business",
        "occurred_at": "2026-10-08T10:00:00+08:00", "previous_holder_id": None,
        "policy": {
            "policy_no": policy_no, "version": 1, "holder_id": holder_id, "channel": channel, "branch": "GD-GZ",
            "agent_id": agent_id, "status": "in_force", "issued_on": "2026-09-01",
            "cooling_off_ends_on": "2026-09-16", "product_type": "participating", "payment_term_years": 10,
            "payment_mode": "annual", "modal_premium": premium, "account_value": "0.00",
            "annuity_converted_premium": "0.00", "premium_waived": False, "paid_up": False,
            "loan_outstanding": "0.00",
        },
    }


def _write_lines(path: Path, events: list[dict[str, Any]]) -> Path:
    path.write_text("".join(json.dumps(event) + "\n" for event in events), encoding="utf-8")
    return path


def _load_platform_with_data(platform: Platform) -> None:
    _vip_publish(platform, ROOT / "examples" / "events.jsonl")
    # The telesales pool's only specialist leaves, then a telesales customer whose agent HR never
    # sent becomes Gold: a VIP nobody can represent.
    unrepresented = [
        {"event_id": f"dash-departure-{SUFFIX}", "event_type": "agent_departed",
         "occurred_at": "2026-10-01T09:00:00+08:00", "agent_id": "S00025", "departed_on": "2026-10-01"},
        _policy("P900001", UNREPRESENTED, channel="telesales", agent_id="A09999", premium="36000.00"),
    ]
    _vip_publish(platform, _write_lines(platform.data_dir / "unrepresented.jsonl", unrepresented))
    _vip_publish(platform, ROOT / "examples" / "garbage.jsonl", "--topic", "pas.policy-events")
    entitlements, tiering = platform.url(3), platform.url(1)
    eventually("C000981 and C000984 are VIPs in entitlements", lambda: all(
        _call("GET", f"{entitlements}/v1/customers/{customer}", OPS).status_code == 200
        and _call("GET", f"{entitlements}/v1/customers/{customer}", OPS).json()["tier"] == "gold"
        for customer in ("C000981", "C000984")
    ))
    vendor = {"vendor_id": "V001", "name": "Sunrise"}
    assert _call("POST", f"{entitlements}/v1/vendors", HQ, json=vendor).status_code == 201
    contract = {"service_code": "vip_reading", "vendor_id": "V001", "unit_cost": "150.00"}
    assert _call("POST", f"{entitlements}/v1/contracts", HQ, json=contract).status_code == 201
    for customer, code, body in (("C000981", "vip_reading", {"vendor_id": "V001"}), ("C000984", "green_channel", {})):
        redeemed = _call("POST", f"{entitlements}/v1/customers/{customer}/entitlements/{code}/redemptions",
                         CALL_CENTER, json=body, headers={"Idempotency-Key": f"dash-{customer}"})
        assert redeemed.status_code == 201, redeemed.text
    filed = [
        _call("POST", f"{tiering}/v1/honorary-applications", APPLICANT,
              json={"customer_id": customer, "tier": tier, "reason": "board decision", "expires_on": None})
        for customer, tier in (("C000985", "gold"), ("C000986", "platinum"))
    ]
    assert [answer.status_code for answer in filed] == [201, 201], [answer.text for answer in filed]
    approved = _call("POST", f"{tiering}/v1/honorary-applications/{filed[1].json()['id']}/decisions", BRANCH_OPS,
                     json={"decision": "approve", "comment": "known to the branch"})
    assert approved.status_code == 200, approved.text
    eventually("the unrepresented VIP", lambda: _get_json(f"{platform.url(2)}/v1/ops/representation")
                ["unassigned"]["total"] == 1)
    # a company-news campaign already past its due date: one overdue item per VIP for the duties panel
    news = {"duty": "company_news", "title": "Half-year results", "starts_on": "2026-11-01", "due_on": "2026-11-05"}
    announced = _call("POST", f"{platform.url(2)}/v1/campaigns", OPS, json=news)
    assert announced.status_code == 201 and announced.json()["items"] > 0, announced.text


@pytest.fixture(scope="module")
def platform(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Platform]:
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: apt-get install -y chromium (.ci/run does it)")
    with running_platform(tmp_path_factory.mktemp("vip-up-dashboard"), tokens=TOKENS) as running:
        _load_platform_with_data(running)
        yield running


def test_vip_up_prints_the_dashboard_address(platform: Platform) -> None:
    assert f"dashboard     {platform.dashboard}/" in platform.output()


def test_the_dashboard_answers_nothing_without_a_session(platform: Platform) -> None:
    assert httpx.get(f"{platform.dashboard}/api/overview", timeout=5).status_code == 401
    refused = httpx.post(f"{platform.dashboard}/login", data={"token": HQ}, timeout=5)  # call_center opens it now
    assert refused.status_code == 401
    assert "does not open the dashboard" in refused.text  # the same words as for an unknown token
    assert "set-cookie" not in refused.headers


def _gauges(url: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    from prometheus_client.parser import text_string_to_metric_families

    text = httpx.get(f"{url}/metrics", timeout=5).text
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def test_every_service_exports_its_business_gauges_from_its_own_database(platform: Platform) -> None:
    scoring, tiering, assignment, entitlements = (_gauges(platform.url(offset)) for offset in range(4))
    assert scoring[("vip_cooling_off_pending_upgrades", (("tier", "platinum"),))] == 1
    assert {labels: value for (name, labels), value in tiering.items() if name == "vip_customers_by_tier"} == {
        (("tier", "gold"),): 3, (("tier", "platinum"),): 1, (("tier", "diamond"),): 0,
    }
    assert tiering[("vip_honorary_applications_waiting", (("step", "branch_gm"),))] == 1
    assert assignment[("vip_vips_without_representative", (("channel", "telesales"),))] == 1
    assert assignment[("vip_vips_without_representative_oldest_days", (("channel", "telesales"),))] >= 1
    cost = {labels: value for (name, labels), value in entitlements.items() if name == "vip_redemption_cost"}
    assert cost[(("branch", "GD-SZ"), ("channel", "agency"), ("vendor", "V001"))] == 150
    assert sum(cost.values()) == 150
    assert not any(name == "vip_customers_by_tier" for name, _ in scoring), "a gauge another service owns"


@pytest.mark.parametrize(
    ("offset", "path"),
    [(0, "/v1/ops/cooling-off"), (1, "/v1/ops/tiers"), (1, "/v1/ops/honorary-waiting"),
     (2, "/v1/ops/representation"), (2, "/v1/ops/duties"), (3, "/v1/ops/redemptions")],
)
def test_the_ops_endpoints_need_the_ops_role(platform: Platform, offset: int, path: str) -> None:
    url = platform.url(offset) + path
    assert httpx.get(url, timeout=5).status_code == 401
    assert _call("GET", url, CALL_CENTER).status_code == 403
    assert _call("GET", url, OPS).status_code == 200


def _figure(page: Any, name: str) -> str:
    return str(page.text_content(f'[data-figure="{name}"]')).strip()


def _table(page: Any, name: str) -> list[list[str]]:
    rows: list[list[str]] = page.eval_on_selector_all(
        f'[data-table="{name}"] tr', "rows => rows.map(r => [...r.cells].map(c => c.textContent.trim()))"
    )
    return rows


def _chart_total(page: Any, canvas_id: str) -> float:
    total: float = page.evaluate(
        """id => Chart.getChart(document.getElementById(id)).data.datasets
                  .flatMap(d => d.data).reduce((sum, value) => sum + Number(value), 0)""",
        canvas_id,
    )
    return total


@dataclass
class Browser:
    page: Any
    context: Any
    errors: list[str]


@pytest.fixture(scope="module")
def browser(platform: Platform) -> Iterator[Browser]:
    """Chromium logged in through the form as the ops user, with traffic flowing while it watches."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            context = chromium.new_context(viewport={"width": 1400, "height": 1000})
            page = context.new_page()
            errors: list[str] = []
            page.on("pageerror", lambda error: errors.append(str(error)))
            page.on("console", lambda message: message.type == "error" and errors.append(message.text))
            page.goto(platform.dashboard + "/")
            page.fill("#token", "not-a-token")
            page.click("button[type=submit]")
            assert "Login refused: this token does not open the dashboard" in str(page.text_content("[role=alert]"))
            errors.clear()  # the refused login's page answered 401, as it should
            page.fill("#token", OPS)
            page.click("button[type=submit]")
            page.wait_for_selector("body[data-loaded]", timeout=30_000)
            # Traffic in waves while the page is open (customers below Gold), so the rate chart has some.
            for wave, size in enumerate((300, 120, 200)):
                below_gold = [
                    _policy(f"P9{wave}{n:04d}", f"C09{wave}{n:04d}", channel="agency", agent_id="A00412",
                            premium="1000.00")
                    for n in range(size)
                ]
                _vip_publish(platform, _write_lines(platform.data_dir / f"traffic-{wave}.jsonl", below_gold))
                page.wait_for_timeout(5_500)
            eventually("the rate chart shows traffic", lambda: _chart_total(page, "chart-rates") > 0, timeout_s=40)
            yield Browser(page=page, context=context, errors=errors)
        finally:
            chromium.close()


def test_the_token_is_kept_in_an_httponly_session_cookie_never_in_the_url_or_storage(browser: Browser) -> None:
    assert OPS not in browser.page.url
    cookies = browser.context.cookies()
    assert [(c["name"], c["httpOnly"], c["sameSite"]) for c in cookies] == [("vip_dashboard_session", True, "Strict")]
    assert OPS not in cookies[0]["value"]
    assert browser.page.evaluate("() => sessionStorage.length + localStorage.length") == 0
    assert browser.page.evaluate("() => document.cookie") == ""


def test_tier_distribution_and_daily_movements(platform: Platform, browser: Browser) -> None:
    page = browser.page
    tiers = _get_json(f"{platform.url(1)}/v1/ops/tiers")
    assert tiers["distribution"] == {"gold": 3, "platinum": 1, "diamond": 0}
    assert _figure(page, "tier-total") == str(tiers["total"]) == "4"
    for tier, count in tiers["distribution"].items():
        assert _figure(page, f"tier-{tier}") == str(count)
    assert _chart_total(page, "chart-tiers") == 4
    movements = {row[0]: row[1:] for row in _table(page, "movements")}
    assert movements == {
        day["day"]: [str(day[kind]) for kind in ("entered", "up", "down", "left")] for day in tiers["movements"]
    }
    assert movements["2026-09-20"] == ["0", "0", "0", "1"]  # C000986 surrendered: left VIP
    assert _chart_total(page, "chart-movements") == sum(
        day[kind] for day in tiers["movements"] for kind in ("entered", "up", "down", "left")
    )


def test_pending_cooling_off_upgrades_by_date(platform: Platform, browser: Browser) -> None:
    cooling = _get_json(f"{platform.url(0)}/v1/ops/cooling-off")
    # C000983: cooling-off's last day 2026-10-20, the upgrade is due from the daily run of the day after
    assert cooling["upgrades"] == [{"due_on": "2026-10-21", "to_tier": "platinum", "customers": 1}]
    assert _figure(browser.page, "cooling-off-total") == "1"
    assert _table(browser.page, "cooling-off") == [["2026-10-21", "platinum", "1"]]
    assert _chart_total(browser.page, "chart-cooling-off") == 1


def test_vips_without_a_representative_and_representatives_loads(platform: Platform, browser: Browser) -> None:
    page = browser.page
    representation = _get_json(f"{platform.url(2)}/v1/ops/representation")
    assert _figure(page, "unassigned-total") == str(representation["unassigned"]["total"]) == "1"
    assert _table(page, "unassigned-customers")[0][:3] == [UNREPRESENTED, "gold", "telesales"]
    assert _table(page, "unassigned-channels")[0][:2] == ["telesales", "1"]
    assert _figure(page, "loads-represented") == str(representation["loads"]["represented"])
    assert _figure(page, "loads-max") == str(representation["loads"]["max_load"])
    loads = _get_json(f"{platform.url(2)}/v1/representatives?limit=15")["representatives"]
    assert _chart_total(page, "chart-loads") == sum(person["load"] for person in loads) > 0


def test_representatives_duties_overdue_by_representative_and_branch_and_compliance(
    platform: Platform, browser: Browser
) -> None:
    page = browser.page
    duties = _get_json(f"{platform.url(2)}/v1/ops/duties")
    assert duties["overdue"] >= 4  # the campaign's item of every VIP, at least
    eventually("the duties panel", lambda: _figure(page, "duties-overdue") == str(duties["overdue"]))
    assert _figure(page, "duties-vips") == str(duties["compliance"]["vips"])
    assert _figure(page, "duties-compliant") == str(duties["compliance"]["meeting_every_minimum"])
    representatives = {row[0]: row[4] for row in _table(page, "duties-representatives")}
    assert representatives == {row["key"]: str(row["overdue"]) for row in duties["by_representative"][:15]}
    branches = {row[0]: row[4] for row in _table(page, "duties-branches")}
    assert branches == {row["key"]: str(row["overdue"]) for row in duties["by_branch"]}
    assert sum(int(overdue) for overdue in branches.values()) == duties["overdue"]


def test_honorary_applications_waiting_per_step(platform: Platform, browser: Browser) -> None:
    honorary = _get_json(f"{platform.url(1)}/v1/ops/honorary-waiting")
    assert (honorary["waiting"]["branch_ops"], honorary["waiting"]["branch_gm"]) == (1, 1)
    assert _figure(browser.page, "honorary-total") == "2"
    assert {row[0]: row[1] for row in _table(browser.page, "honorary")} == {
        step: str(count) for step, count in honorary["waiting"].items()
    }
    assert _chart_total(browser.page, "chart-honorary") == 2


def test_value_added_usage_and_cost_per_channel_branch_and_vendor(platform: Platform, browser: Browser) -> None:
    page = browser.page
    window = page.evaluate("() => fetch('/api/overview').then(r => r.json()).then(o => [o.usage.from, o.usage.to])")
    costs = _get_json(f"{platform.url(3)}/v1/reports/costs?from={window[0]}&to={window[1]}")
    assert costs["totals"]["redemptions"] == 2
    assert _figure(page, "usage-redemptions") == "2"
    assert _figure(page, "usage-cost") == costs["totals"]["cost"] == "150.00"
    assert _table(page, "usage-channel") == [["agency", "1", "150.00"], ["brokerage", "1", "0.00"]]
    assert _table(page, "usage-vendor") == [["V001", "1", "150.00"], ["(none)", "1", "0.00"]]
    assert [row[0] for row in _table(page, "usage-branch")] == [entry["branch"] for entry in costs["by_branch"]]


def test_pipeline_health_and_dead_letters_with_their_reasons(platform: Platform, browser: Browser) -> None:
    page = browser.page
    letters = _table(page, "dead-letters")
    assert _figure(page, "dead-letters-total") == "2"
    assert {row[2] for row in letters} == {"pas.policy-events"}
    assert any("Invalid JSON" in row[4] for row in letters)
    assert any("policy.holder_id: Field required" in row[4] for row in letters)
    scoring = next(row for row in _table(page, "pipeline-topics") if row[:2] == ["scoring", "pas.policy-events"])
    assert scoring[6] == "2"  # dead letters, as scoring's /metrics counts them
    assert [row[1] for row in _table(page, "pipeline-services")] == ["up"] * 4
    assert _chart_total(page, "chart-rates") > 0


def test_the_group_panel_shows_clients_per_level_movements_overdue_complaints_and_the_assessment(
    platform: Platform, browser: Browser
) -> None:
    """The figures of entitlements' group-program reports (docs/group-program.md), as the panel shows them."""
    page = browser.page
    overview = _get_json(f"{platform.url(3)}/v1/group-program/overview")
    assert _figure(page, "group-overdue") == str(overview["overdue_complaints"])
    assert {row[0]: row[1] for row in _table(page, "group-levels")} == {
        level: str(count) for level, count in overview["clients_per_level"].items()
    }
    assert {"level_1", "level_2", "level_3", "regular"} <= set(overview["clients_per_level"])
    assert _chart_total(page, "chart-group-levels") == sum(overview["clients_per_level"].values())
    year = page.evaluate("() => fetch('/api/overview').then(r => r.json()).then(o => o.group_movements.year)")
    assert [row[0] for row in _table(page, "group-movements")] == [f"{year} Q{quarter}" for quarter in range(1, 5)]
    assessment = page.evaluate("() => fetch('/api/overview').then(r => r.json()).then(o => o.group_assessment)")
    shown = _table(page, "group-assessment")
    assert [row[0] for row in shown] == ([branch["key"] or "(none)" for branch in assessment["branches"]] or ["none"])
    assert page.query_selector("#group p.error") is None


def test_zz_screenshot_then_log_out(platform: Platform, browser: Browser) -> None:
    """Last in the module: the screenshot shows every view above, then the session ends."""
    page = browser.page
    OUTPUT.mkdir(exist_ok=True)
    page.wait_for_timeout(5_500)  # one more refresh, so the rate chart has several points
    page.screenshot(path=str(OUTPUT / "dashboard.png"), full_page=True)
    assert (OUTPUT / "dashboard.png").stat().st_size > 50_000
    assert browser.errors == []
    page.click("text=Log out")
    page.wait_for_selector("#token")
    assert httpx.get(f"{platform.dashboard}/api/overview", timeout=5).status_code == 401
