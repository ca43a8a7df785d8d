"""Entitlements' group program against the real embedded PostgreSQL and the real broker: level
decisions and account managers in (hand-built, as tiering and assignment publish them), the look-up,
the records, the reports over HTTP, and the feedback published to tiering."""

import csv
import io
from decimal import Decimal
from typing import Any

from shared.topics import GROUP_FEEDBACK
from tests.builders.group import level_decided, manager_changed
from tests.entitlements.platform import Platform, platform
from tests.support import eventually, fresh_id, publish, read_topic


async def send(vip: Platform, *events: Any) -> None:
    for event in events:
        await publish(vip.bootstrap_servers, event.topic, [(event.client_id, event.model_dump_json().encode())])


async def client_at(vip: Platform, client_id: str, level: str | None, *, manager: str | None = None) -> dict[str, Any]:
    async def seen() -> dict[str, Any] | None:
        response = await vip.client.get(f"/v1/group-clients/{client_id}", headers=vip.as_role("call_center"))
        if response.status_code != 200:
            return None
        body: dict[str, Any] = response.json()
        current = body["account_manager"]["agent_id"] if body["account_manager"] else None
        return body if body["level"] == level and current == manager else None

    return await eventually(seen, what=f"{client_id} at {level} managed by {manager}")


async def post(vip: Platform, path: str, body: dict[str, Any], role: str = "group_service") -> Any:
    return await vip.client.post(path, json=body, headers=vip.as_role(role))


def green(day: str) -> dict[str, Any]:
    return {"date": day, "claim_reference": "CL-1", "insured_employee": "Wang Wei", "expedited": "medical claim",
            "days_taken": 2}


SCORES = {"responsiveness": 5, "claims": 4, "manager": 5, "information": 4, "overall": 4}


async def level_3_client(vip: Platform) -> tuple[str, str, str]:
    """A level-3 client with an account manager, and a regular client."""
    client, regular, manager = fresh_id("GC"), fresh_id("GC"), fresh_id("AM")
    await send(vip, level_decided(client, revision=1, level="level_3", score="1.1000"))
    await send(vip, manager_changed(client, revision=1, agent_id=manager))
    await send(vip, level_decided(regular, revision=1, level=None))
    await client_at(vip, regular, None)
    return client, regular, manager


async def test_records_count_against_the_levels_yearly_quota_and_bad_records_are_refused(
    database_url: str, bootstrap_servers: str, api_tokens: dict[str, str]
) -> None:
    async with platform(database_url, bootstrap_servers, api_tokens) as vip:
        client, regular, manager = await level_3_client(vip)
        found = await client_at(vip, client, "level_3", manager=manager)
        base = f"/v1/group-clients/{client}"
        recorded = [await post(vip, f"{base}/green-channel", green(f"2026-0{month}-10")) for month in (4, 5, 7, 8)]
        refused = await post(vip, f"{base}/green-channel", green("2026-10-01"))
        not_offered = await post(vip, f"{base}/services/health_lecture/deliveries", {"date": "2026-10-01"})
        unknown_code = await post(vip, f"{base}/services/yacht_trip/deliveries", {"date": "2026-10-01"})
        not_vip = await post(vip, f"/v1/group-clients/{regular}/daily-care",
                             {"date": "2026-10-01", "occasion": "Mid-Autumn", "channel": "visit", "reached": "HR"})
        regular_consultation = await post(vip, f"/v1/group-clients/{regular}/consultations", {
            "kind": "consultation", "received_at": "2026-10-02T09:00:00+08:00", "topic": "coverage", "handler": "Li"})
        wrong_role = await post(vip, f"{base}/green-channel", green("2026-10-01"), role="call_center")
        unknown_client = await post(vip, f"/v1/group-clients/{fresh_id('GC')}/green-channel", green("2026-10-01"))
        bad_score = await post(vip, f"{base}/surveys", {"date": "2026-11-01", "scores": {**SCORES, "claims": 6}})
        backwards = await post(vip, f"{base}/consultations", {
            "kind": "complaint", "received_at": "2026-10-05T09:00:00+08:00", "topic": "slow claim", "handler": "Li",
            "resolved_at": "2026-10-04T09:00:00+08:00", "outcome": "explained", "verified": True})
        looked_up = await client_at(vip, client, "level_3", manager=manager)
        never_seen = await vip.client.get(f"/v1/group-clients/{fresh_id('GC')}", headers=vip.as_role("call_center"))

    assert found["score"] == "1.1000" and found["coefficients"]["scale"] == "1.2000"
    assert found["account_manager"] == {"agent_id": manager, "name": f"Name {manager}"}
    assert [response.status_code for response in recorded] == [201] * 4
    assert recorded[-1].json()["remaining"] == 0
    assert (refused.status_code, refused.json()["reason"]) == (409, "quota_reached")
    assert (not_offered.status_code, not_offered.json()["reason"]) == (422, "not_offered")
    assert (unknown_code.status_code, unknown_code.json()["reason"]) == (422, "unknown_service")
    assert (not_vip.status_code, not_vip.json()["reason"]) == (422, "not_vip")
    assert regular_consultation.status_code == 201
    assert wrong_role.status_code == 403 and unknown_client.status_code == 404 and never_seen.status_code == 404
    assert (bad_score.status_code, bad_score.json()["reason"]) == (422, "score_out_of_range")
    assert (backwards.status_code, backwards.json()["reason"]) == (422, "resolved_before_received")
    services = {entry["code"]: entry for entry in looked_up["services"]}
    green_channel = services["claims_green_channel"]
    assert (green_channel["quota"], green_channel["used"], green_channel["remaining"]) == (4, 4, 0)
    assert "service_visit" not in services and services["consultation"]["quota"] is None


async def test_complaints_and_surveys_reach_tiering_and_the_reports(
    database_url: str, bootstrap_servers: str, api_tokens: dict[str, str]
) -> None:
    async with platform(database_url, bootstrap_servers, api_tokens) as vip:
        client, _, manager = await level_3_client(vip)
        await client_at(vip, client, "level_3", manager=manager)
        base = f"/v1/group-clients/{client}"
        delivered = await post(vip, f"{base}/green-channel", {**green("2026-10-10"), "cost": "350.00"})
        complaint = await post(vip, f"{base}/consultations", {
            "kind": "complaint", "received_at": "2026-10-05T09:00:00+08:00", "topic": "slow claim", "handler": "Li",
            "verified": True})
        survey = await post(vip, f"{base}/surveys", {"date": "2026-11-01", "scores": SCORES})
        unanswered = await post(vip, f"{base}/consultations", {
            "kind": "complaint", "received_at": "2026-09-20T09:00:00+08:00", "topic": "no answer", "handler": "Li"})
        resolved = await post(vip, f"{base}/consultations/{complaint.json()['record_id']}/resolution",
                              {"resolved_at": "2026-10-06T10:00:00+08:00", "outcome": "claim paid", "verified": True})
        listed = await vip.client.get(f"{base}/records", params={"kind": "complaint"}, headers=vip.as_role("ops"))
        quarter = {"year": 2026, "quarter": 4}
        summary = await vip.client.get(f"{base}/quarterly-summary", params=quarter, headers=vip.as_role("ops"))
        summary_csv = await vip.client.get(
            f"{base}/quarterly-summary.csv", params=quarter, headers=vip.as_role("group_service")
        )
        estimate = await vip.client.get(
            "/v1/group-program/investment", params={"year": 2026}, headers=vip.as_role("ops")
        )
        assessment = await vip.client.get("/v1/group-program/assessment", params=quarter, headers=vip.as_role("ops"))
        feedback = await read_topic(bootstrap_servers, GROUP_FEEDBACK, expect=10_000, timeout_s=3)
        metrics = (await vip.client.get("/metrics")).text
        overview = (await vip.client.get("/v1/group-program/overview", headers=vip.as_role("ops"))).json()

    assert 'vip_group_clients_by_level{level="level_3"}' in metrics
    assert 'vip_group_overdue_complaints{branch="GD-SZ"}' in metrics
    assert overview["clients_per_level"]["level_3"] >= 1 and overview["overdue_complaints"] >= 1
    assert unanswered.status_code == 201
    assert delivered.status_code == complaint.status_code == survey.status_code == 201
    assert resolved.status_code == 200, resolved.text
    handled, waiting = listed.json()["records"]  # newest first
    assert handled["verified"] is True and handled["overdue"] is False and handled["resolved_at"] is not None
    assert waiting["overdue"] is True and waiting["verified"] is False
    body = summary.json()
    lines = {line["code"]: line for line in body["services"]}
    green_line, survey_line = lines["claims_green_channel"], lines["satisfaction_survey"]
    assert (green_line["yearly"], green_line["delivered_in_quarter"]) == (4, 1)
    assert (survey_line["required_to_date"], survey_line["delivered_to_date"]) == (1, 1)
    assert body["complaints"][0]["resolved_in_time"] is True and body["survey"]["average"] == "4.40"
    rows = list(csv.DictReader(io.StringIO(summary_csv.text)))
    assert summary_csv.headers["content-type"].startswith("text/csv")
    assert {row["section"] for row in rows} == {"service", "complaint", "survey"}
    assert next(row for row in rows if row["code"] == "claims_green_channel")["delivered_in_quarter"] == "1"
    surveyed = next(row for row in rows if row["section"] == "survey")
    assert (surveyed["surveys"], surveyed["survey_average"], None in surveyed) == ("1", "4.40", False)  # no extra cell
    mine = {line["code"]: line for line in estimate.json()["lines"] if line["level"] == "level_3"}
    estimated = mine["claims_green_channel"]
    assert estimated["estimate"] == f"{estimated['clients'] * 4 * 200}.00"
    assert Decimal(estimated["actual_cost"]) >= Decimal("350.00")
    managers = {row["key"]: row for row in assessment.json()["account_managers"]}
    assert managers[manager]["complaints"] == 1 and managers[manager]["complaints_in_time_share"] == "1.0000"
    assert managers[manager]["average_satisfaction"] == "4.40" and managers[manager]["vip_clients"] == 1
    mine_reported = [record.json() for record in feedback if record.key == client.encode()]
    reports = sorted(mine_reported, key=lambda report: report["revision"])
    assert [report["revision"] for report in reports] == [1, 2, 3, 4]  # complaint, survey, complaint, resolution
    assert reports[-1]["verified_complaints_12_months"] == 1 and reports[-1]["last_survey_average"] == "4.40"
