"""The group program's downstream half through the public interfaces of the whole platform (`vip up`):
the group story (`examples/group-events.jsonl`) published with `vip publish`, a quarter-end daily run
through `vip daily-run`, then the account manager (assignment), records counting against the level's
yearly count, the quarterly summary CSV, the investment estimate and the assessment (entitlements).

The levels come from scoring (the group book) and tiering (the quarter-end evaluation).
"""

import csv
import io
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.e2e.platform import ROOT, Platform, eventually, running_platform, vip

TOKEN = f"e2e-group-{uuid.uuid4().hex[:8]}"
HEADERS = {"Authorization": f"Bearer {TOKEN}"}

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def platform(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Platform]:
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("VIP_ALLOW_FUTURE_DAILY_RUN", "true")  # the quarter end 2026-12-31 is after tomorrow
        tokens = f"{TOKEN}=call_center+ops+group_service"
        with running_platform(tmp_path_factory.mktemp("vip-up-group"), tokens=tokens) as running:
            published = vip("publish", str(ROOT / "examples" / "group-events.jsonl"),
                            "--bootstrap-servers", running.bootstrap_servers)
            assert published.returncode == 0, published.stderr
            yield running


def get(url: str, **params: Any) -> httpx.Response:
    return httpx.get(url, params=params, headers=HEADERS, timeout=10)


def post(url: str, body: dict[str, Any]) -> httpx.Response:
    return httpx.post(url, json=body, headers=HEADERS, timeout=10)


def client_at(platform: Platform, client_id: str, level: str | None) -> dict[str, Any]:
    def check() -> dict[str, Any] | None:
        response = get(f"{platform.entitlements}/v1/group-clients/{client_id}")
        return response.json() if response.status_code == 200 and response.json()["level"] == level else None

    return eventually(f"{client_id} at {level}", check, timeout_s=60)  # type: ignore[no-any-return]


def quarter_end_evaluated(platform: Platform) -> None:
    run = vip("daily-run", "--as-of", "2026-12-31", "--token", TOKEN, "--http-port-base", str(platform.http_base))
    assert run.returncode == 0, run.stdout + run.stderr


def test_a_vip_client_gets_its_branchs_least_loaded_service_staff_as_account_manager(platform: Platform) -> None:
    quarter_end_evaluated(platform)
    key_client = client_at(platform, "GC0001", "level_1")
    regular = client_at(platform, "GC0003", None)

    def managed() -> dict[str, Any] | None:
        body = key_client if key_client["account_manager"] else get(
            f"{platform.entitlements}/v1/group-clients/GC0001").json()
        return body if body["account_manager"] else None

    assert eventually("GC0001's account manager", managed)["account_manager"] == {"agent_id": "G00031", "name": "赵敏"}
    assert regular["account_manager"] is None
    assignment = get(f"{platform.url(2)}/v1/group-clients/GC0002/account-manager").json()
    assert assignment["account_manager"]["agent_id"] == "G00033" and "least loaded" in assignment["reason"]


def test_records_count_against_the_levels_yearly_quota(platform: Platform) -> None:
    client_at(platform, "GC0002", "level_2")
    base = f"{platform.entitlements}/v1/group-clients/GC0002"
    visits = [
        post(f"{base}/daily-care", {"date": day, "occasion": occasion, "channel": "visit", "reached": "HR"})
        for day, occasion in (("2026-02-16", "Spring Festival"), ("2026-10-01", "National Day"))
    ]
    third = post(f"{base}/daily-care", {"date": "2026-12-20", "occasion": "year end", "channel": "visit",
                                         "reached": "HR"})
    services = {entry["code"]: entry for entry in get(base).json()["services"]}

    assert [visit.status_code for visit in visits] == [201, 201]
    assert (third.status_code, third.json()["reason"]) == (409, "quota_reached")
    assert (services["holiday_care"]["quota"], services["holiday_care"]["remaining"]) == (2, 0)


def test_the_quarterly_summary_csv_the_investment_estimate_and_the_assessment(platform: Platform) -> None:
    client_at(platform, "GC0001", "level_1")
    base = f"{platform.entitlements}/v1/group-clients/GC0001"
    visited = post(f"{base}/services/service_visit/deliveries", {"date": "2026-10-20", "note": "Q3 report"})
    assert visited.status_code == 201
    assert post(f"{base}/consultations", {
        "kind": "complaint", "received_at": "2026-11-03T10:00:00+08:00", "topic": "claim status", "handler": "赵敏",
        "resolved_at": "2026-11-04T09:00:00+08:00", "outcome": "answered", "verified": True}).status_code == 201
    assert post(f"{base}/surveys", {"date": "2026-11-20", "scores": {
        "responsiveness": 5, "claims": 4, "manager": 5, "information": 4, "overall": 5}}).status_code == 201

    summary = get(f"{base}/quarterly-summary.csv", year=2026, quarter=4)
    rows = list(csv.DictReader(io.StringIO(summary.text)))
    visit = next(row for row in rows if row["code"] == "service_visit")
    estimate = get(f"{platform.entitlements}/v1/group-program/investment", year=2026).json()
    lecture = next(
        line for line in estimate["lines"] if (line["level"], line["code"]) == ("level_1", "health_lecture")
    )
    assessment = get(f"{platform.entitlements}/v1/group-program/assessment", year=2026, quarter=4).json()
    shenzhen = next(row for row in assessment["branches"] if row["key"] == "GD-SZ")

    assert summary.status_code == 200 and summary.headers["content-type"].startswith("text/csv")
    assert (visit["yearly"], visit["required_to_date"], visit["delivered_in_quarter"]) == ("4", "4", "1")
    assert next(row for row in rows if row["section"] == "survey")["survey_average"] == "4.60"
    assert (lecture["clients"], lecture["estimate"]) == (1, "6000.00")
    assert shenzhen["complaints"] == 1 and shenzhen["complaints_in_time_share"] == "1.0000"
    assert shenzhen["average_satisfaction"] == "4.60" and shenzhen["vip_clients"] == 1
