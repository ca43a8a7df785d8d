"""Tiering's group program through its public interfaces, against the real embedded PostgreSQL and
broker: group clients' scores and feedback in, evaluations over HTTP and the daily run, designations
along the group chain, `GroupLevelDecided` out (rules.md section 9)."""

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from services.tiering.config import TieringSettings
from services.tiering.main import create_app
from shared.topics import GROUP_CLIENTS, GROUP_FEEDBACK, GROUP_LEVELS
from tests.builders.group_clients import group_client_scored, group_feedback_reported, quarters
from tests.support import auth, eventually, fresh_id, publish, read_topic, running, service_settings


@dataclass
class Tiering:
    client: httpx.AsyncClient
    tokens: dict[str, str]
    bootstrap_servers: str

    def as_role(self, role: str) -> dict[str, str]:
        return auth(self.tokens[role])

    async def scored(self, **fields: Any) -> None:
        message = group_client_scored(**fields)
        await publish(self.bootstrap_servers, GROUP_CLIENTS, [(message["client_id"], message)])

    async def levels(self, client_id: str, *, count: int) -> list[dict[str, Any]]:
        async def check() -> list[dict[str, Any]] | None:
            records = await read_topic(self.bootstrap_servers, GROUP_LEVELS, expect=100_000, timeout_s=1)
            mine = [record.json() for record in records if record.key == client_id.encode()]
            return mine if len(mine) >= count else None

        return await eventually(check, timeout_s=30, what=f"{count} group levels for {client_id}")

    async def evaluate(self, client_id: str, as_of: str, role: str = "ops") -> httpx.Response:
        return await self.client.post(
            f"/v1/group-clients/{client_id}/evaluations", json={"as_of": as_of}, headers=self.as_role(role)
        )


@pytest.fixture
async def tiering(database_url: str, bootstrap_servers: str, api_tokens: dict[str, str]) -> AsyncIterator[Tiering]:
    settings = service_settings(
        TieringSettings, database_url=database_url, bootstrap_servers=bootstrap_servers, tokens=api_tokens,
        allow_future_daily_run=True,
    )
    async with running(create_app(settings), port=settings.http_port) as client:
        yield Tiering(client, api_tokens, bootstrap_servers)


async def test_an_on_demand_evaluation_gives_the_score_and_level_from_the_tables(tiering: Tiering) -> None:
    client = fresh_id("K")
    await tiering.scored(
        client_id=client, experience=quarters(("100000.00", "30000.00"), ("100000.00", "10000.00"))
    )
    [first] = await tiering.levels(client, count=1)
    assert (first["level"], first["evaluated_on"], first["branch"]) == (None, None, "GD-SZ")

    response = await tiering.evaluate(client, "2026-09-30")

    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["level"], body["effective_level"], body["score"]) == ("level_2", "level_2", "1.5840")
    assert body["coefficients"] == {"scale": "1.2000", "loyalty": "1.1000", "profit": "1.2000"}
    assert body["inputs"]["loss_ratio"] == "0.2000" and body["inputs"]["years_as_client"] == 6
    assert body["ruleset_version"] == "group-example.1"
    assert "scale 1.2000" in body["reason"] and body["reason"].endswith("= 1.5840: level_2 (二级VIP客户)")
    decided = (await tiering.levels(client, count=2))[-1]
    assert (decided["level"], decided["evaluated_level"], decided["score"]) == ("level_2", "level_2", "1.5840")
    assert decided["trigger"] == "on_demand" and decided["revision"] == 2


async def test_evaluation_refusals(tiering: Tiering) -> None:
    client = fresh_id("K")
    unknown = await tiering.evaluate(fresh_id("K"), "2026-09-30")
    assert (unknown.status_code, unknown.json()["reason"]) == (404, "unknown_client")
    forbidden = await tiering.evaluate(client, "2026-09-30", role="call_center")
    assert forbidden.status_code == 403
    await tiering.scored(client_id=client)
    await tiering.levels(client, count=1)
    assert (await tiering.evaluate(client, "2026-09-30")).status_code == 200
    backwards = await tiering.evaluate(client, "2026-06-30")
    assert (backwards.status_code, backwards.json()["reason"]) == (409, "before_last_evaluation")


async def test_the_quarter_end_daily_run_evaluates_every_client_once_and_feedback_moves_loyalty(
    tiering: Tiering,
) -> None:
    client = fresh_id("K")
    await tiering.scored(client_id=client, annual_standard_premium="200000.00")
    await tiering.levels(client, count=1)
    assert (await tiering.evaluate(client, "2026-09-30")).json()["level"] == "level_3"  # 1.0 x 1.1 x 1.0
    feedback = group_feedback_reported(client_id=client, complaints=3)
    await publish(tiering.bootstrap_servers, GROUP_FEEDBACK, [(client, feedback)])

    async def moved() -> dict[str, Any] | None:
        run = await tiering.client.post("/v1/daily-runs", json={"as_of": "2026-12-31"}, headers=tiering.as_role("ops"))
        assert run.status_code == 200, run.text
        levels = await tiering.levels(client, count=2)
        return levels[-1] if levels[-1]["evaluated_on"] == "2026-12-31" else None

    async def feedback_kept() -> dict[str, Any] | None:
        answer = await tiering.client.get(f"/v1/group-clients/{client}/evaluations", headers=tiering.as_role("ops"))
        body: dict[str, Any] = answer.json()
        return body if body["verified_complaints"] == 3 else None

    await eventually(feedback_kept, timeout_s=30, what="the feedback in tiering")
    decided = await eventually(moved, timeout_s=30, what="the quarter-end evaluation")
    assert (decided["level"], decided["trigger"]) == (None, "quarter_end"), "1.0 x (1.1 - 0.15) x 1.0 = 0.95"
    assert decided["coefficients"]["loyalty"] == "0.9500"
    again = await tiering.client.post("/v1/daily-runs", json={"as_of": "2026-12-31"}, headers=tiering.as_role("ops"))
    assert again.json()["steps"]["group_quarter_end_evaluated"] == 0
    off_quarter = await tiering.client.post(
        "/v1/daily-runs", json={"as_of": "2027-01-02"}, headers=tiering.as_role("ops")
    )
    assert off_quarter.json()["steps"]["group_quarter_end_evaluated"] == 0


async def test_no_in_force_policy_left_stops_a_client_being_vip_at_once(tiering: Tiering) -> None:
    client = fresh_id("K")
    await tiering.scored(client_id=client, annual_standard_premium="5000000.00")
    await tiering.levels(client, count=1)
    assert (await tiering.evaluate(client, "2026-09-30")).json()["level"] == "level_2"  # 1.5 x 1.1 x 1.0
    await tiering.scored(client_id=client, revision=2, annual_standard_premium="0.00", in_force_policies=0)
    lapsed = (await tiering.levels(client, count=3))[-1]
    assert (lapsed["level"], lapsed["evaluated_level"]) == (None, "level_2")
    assert lapsed["reason"].startswith("no in-force group policy")


async def test_a_designation_approved_through_the_group_chain_raises_the_effective_level(tiering: Tiering) -> None:
    client = fresh_id("K")
    await tiering.scored(client_id=client, annual_standard_premium="200000.00")
    await tiering.levels(client, count=1)
    await tiering.evaluate(client, "2026-09-30")
    filed = await tiering.client.post(
        "/v1/group-designations",
        json={"client_id": client, "level": "level_1", "reason": "strategic account", "expires_on": "2027-12-31"},
        headers=tiering.as_role("dev"),
    )
    assert filed.status_code == 201, filed.text
    application = filed.json()
    assert application["program"] == "group"
    assert [step["step"] for step in application["steps"]] == [
        "branch_group_insurance", "branch_gm", "hq_group_insurance"
    ]
    path = f"/v1/group-designations/{application['id']}/decisions"
    out_of_role = await tiering.client.post(path, json={"decision": "approve"}, headers=tiering.as_role("branch_gm"))
    assert (out_of_role.status_code, out_of_role.json()["reason"]) == (403, "role_required")
    for role in ("branch_group_insurance", "branch_gm", "hq_group_insurance"):
        decided = await tiering.client.post(path, json={"decision": "approve"}, headers=tiering.as_role(role))
        assert decided.status_code == 200, decided.text
    assert decided.json()["state"] == "approved"

    designated = (await tiering.levels(client, count=3))[-1]
    assert (designated["level"], designated["evaluated_level"], designated["approved_level"]) == (
        "level_1", "level_3", "level_1"
    )
    assert designated["trigger"] == "designation"
    listed = await tiering.client.get(f"/v1/group-designations?client_id={client}", headers=tiering.as_role("ops"))
    assert [a["state"] for a in listed.json()["applications"]] == ["approved"]
    honorary = await tiering.client.get(
        f"/v1/honorary-applications/{application['id']}", headers=tiering.as_role("ops")
    )
    assert honorary.status_code == 404, "a group designation is not an honorary application"


async def test_a_designation_is_refused_for_an_unknown_client_or_level(tiering: Tiering) -> None:
    client = fresh_id("K")
    unknown = await tiering.client.post(
        "/v1/group-designations", json={"client_id": client, "level": "level_1", "reason": "r"},
        headers=tiering.as_role("dev"),
    )
    assert (unknown.status_code, unknown.json()["reason"]) == (404, "unknown_client")
    await tiering.scored(client_id=client)
    await tiering.levels(client, count=1)
    bad_level = await tiering.client.post(
        "/v1/group-designations", json={"client_id": client, "level": "gold", "reason": "r"},
        headers=tiering.as_role("dev"),
    )
    assert (bad_level.status_code, bad_level.json()["reason"]) == (422, "unknown_level")
    wrong_role = await tiering.client.post(
        "/v1/group-designations", json={"client_id": client, "level": "level_1", "reason": "r"},
        headers=tiering.as_role("honorary_applicant"),
    )
    assert wrong_role.status_code == 403
