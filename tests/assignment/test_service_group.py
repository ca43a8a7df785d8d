"""Assignment's group program against the real embedded PostgreSQL and the real broker: level
decisions on `vip.group-levels.v1` and HR events in, the account manager over HTTP and
`AccountManagerChanged` on `vip.account-managers.v1` out."""

from datetime import timedelta
from typing import Any

from shared.topics import ACCOUNT_MANAGERS, GROUP_LEVELS
from tests.assignment.platform import T0, Platform, ids, platform
from tests.builders.group import level_decided
from tests.support import eventually, fresh_id, publish, read_topic


async def staff(vip: Platform, agent_id: str, *, branch: str) -> None:
    await vip._hr(agent_id, {
        "event_type": "agent_upserted", "occurred_at": (T0 - timedelta(days=30)).isoformat(),
        "agent": {"agent_id": agent_id, "name": f"Name {agent_id}", "channel": "group", "branch": branch,
                  "role": "cs_specialist", "top_performer": False, "eligible": True},
    })


async def decide(vip: Platform, client_id: str, *, revision: int, level: str | None, branch: str) -> None:
    event = level_decided(client_id, revision=revision, level=level, branch=branch, at=T0)
    await publish(vip.bootstrap_servers, GROUP_LEVELS, [(client_id, event.model_dump_json().encode())])


async def manager_of(vip: Platform, client_id: str, agent_id: str | None) -> dict[str, Any]:
    async def check() -> dict[str, Any] | None:
        response = await vip.client.get(f"/v1/group-clients/{client_id}/account-manager", headers=vip.ops)
        if response.status_code != 200:
            return None
        body: dict[str, Any] = response.json()
        current = body["account_manager"]["agent_id"] if body["account_manager"] else None
        return body if current == agent_id else None

    return await eventually(check, what=f"{client_id} managed by {agent_id}")


async def test_a_vip_client_gets_its_branchs_least_loaded_service_staff_kept_until_departure(
    database_url: str, bootstrap_servers: str, api_tokens: dict[str, str]
) -> None:
    near, busy, far = ids("S", 3)
    branch, other = fresh_id("BR"), fresh_id("BR")
    first, second = fresh_id("GC"), fresh_id("GC")
    async with platform(database_url, bootstrap_servers, api_tokens) as vip:
        await staff(vip, busy, branch=branch)
        await staff(vip, far, branch=other)
        await vip.wait_for_agent(far)
        await decide(vip, first, revision=1, level="level_2", branch=branch)
        assert (await manager_of(vip, first, busy))["account_manager"]["branch"] == branch
        await staff(vip, near, branch=branch)
        await vip.wait_for_agent(near)
        await decide(vip, second, revision=1, level="level_1", branch=branch)
        chosen = await manager_of(vip, second, near)
        await decide(vip, second, revision=2, level="level_3", branch=branch)
        await vip.depart(near, at=T0 + timedelta(days=2))
        handed_over = await manager_of(vip, second, busy)
        await decide(vip, first, revision=2, level=None, branch=branch)
        ended = await manager_of(vip, first, None)
        unknown = await vip.client.get(f"/v1/group-clients/{fresh_id('GC')}/account-manager", headers=vip.ops)
        records = await read_topic(bootstrap_servers, ACCOUNT_MANAGERS, expect=10_000, timeout_s=3)

    assert "least loaded" in chosen["reason"] and "left the company" in handed_over["reason"]
    assert ended["level"] is None and "no longer VIP" in ended["reason"]
    assert unknown.status_code == 404 and unknown.json()["reason"] == "unknown_group_client"
    mine = sorted((record.json() for record in records if record.key == second.encode()), key=lambda b: b["revision"])
    assert [(body["revision"], body["manager"]["agent_id"]) for body in mine] == [(1, near), (2, busy)]
