"""One running assignment service for the service tests, and the messages a test sends it."""

import uuid
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import httpx

from services.assignment.config import AssignmentSettings
from services.assignment.main import create_app
from shared.events.internal import PolicyContribution, TierDecided
from shared.events.values import Channel, Standard, Tier
from shared.topics import AGENT_EVENTS, REPRESENTATIVES, TIER_DECISIONS
from tests.support import auth, eventually, fresh_id, publish, read_topic, running, service_settings

T0 = datetime(2026, 10, 8, 2, 0, tzinfo=UTC)


class Platform:
    """One running assignment service, and the messages a test sends it."""

    def __init__(self, client: httpx.AsyncClient, bootstrap_servers: str, tokens: dict[str, str]) -> None:
        self.client = client
        self.bootstrap_servers = bootstrap_servers
        self.ops = auth(tokens["ops"])
        self.revisions: dict[str, int] = {}

    async def upsert(
        self,
        agent_id: str,
        *,
        role: str = "agent",
        channel: str = "agency",
        top_performer: bool = False,
        eligible: bool = True,
        at: datetime = T0 - timedelta(days=30),
        name: str | None = None,
        branch: str = "GD-SZ",
    ) -> None:
        agent = {
            "agent_id": agent_id,
            "name": name or f"Name {agent_id}",
            "channel": channel,
            "branch": branch,
            "role": role,
            "top_performer": top_performer,
            "eligible": eligible,
        }
        await self._hr(agent_id, {"event_type": "agent_upserted", "occurred_at": at.isoformat(), "agent": agent})

    async def depart(self, agent_id: str, *, at: datetime, departed_on: date | None = None) -> None:
        await self._hr(
            agent_id,
            {
                "event_type": "agent_departed",
                "occurred_at": at.isoformat(),
                "agent_id": agent_id,
                "departed_on": (departed_on or at.date()).isoformat(),
            },
        )

    async def daily_run(self, as_of: date) -> dict[str, Any]:
        response = await self.client.post("/v1/daily-runs", json={"as_of": as_of.isoformat()}, headers=self.ops)
        assert response.status_code == 200, response.text
        return dict(response.json())

    async def disqualify(self, agent_id: str, *, at: datetime) -> None:
        await self._hr(
            agent_id,
            {
                "event_type": "agent_disqualified",
                "occurred_at": at.isoformat(),
                "agent_id": agent_id,
                "reason": "withheld a customer's gift",
            },
        )

    async def contact(self, agent_id: str, customer_id: str, *, at: datetime) -> None:
        await self._hr(
            agent_id,
            {
                "event_type": "customer_contacted",
                "occurred_at": (at + timedelta(days=60)).isoformat(),
                "agent_id": agent_id,
                "customer_id": customer_id,
                "contacted_at": at.isoformat(),
            },
        )

    async def _hr(self, key: str, body: dict[str, Any]) -> None:
        await publish(self.bootstrap_servers, AGENT_EVENTS, [(key, {"event_id": uuid.uuid4().hex, **body})])

    async def tier(
        self,
        customer_id: str,
        tier: Tier | None,
        policies: Sequence[tuple[str | None, str]] = (),
        *,
        at: datetime = T0,
        revision: int | None = None,
        standard: Standard = Standard.Y2015,
        premiums: Sequence[str] | None = None,
        branch: str | None = None,
        channel: Channel = Channel.AGENCY,
    ) -> None:
        """`policies`: (service person, points) of each counting policy of `channel`; `premiums`:
        their legacy standard premiums (default: the points); `branch`: the customer's."""
        revision = revision or self.revisions.get(customer_id, 0) + 1
        self.revisions[customer_id] = max(revision, self.revisions.get(customer_id, 0))
        event = TierDecided(
            event_id=uuid.uuid4().hex,
            occurred_at=at,
            correlation_id=uuid.uuid4().hex,
            customer_id=customer_id,
            revision=revision,
            tier=tier,
            previous_tier=None,
            computed_tier=tier,
            honorary_tier=None,
            standard=standard,
            points=Decimal("0"),
            vip_since=None,
            effective_at=at.date(),
            serving_channel=channel,
            branch=branch,
            trigger="new_business",
            ruleset_version="test",
            reason="test decision",
            policies=tuple(
                PolicyContribution(
                    policy_no=f"P{number}-{customer_id}",
                    channel=channel,
                    branch="GD-SZ",
                    agent_id=agent_id,
                    issued_on=at.date(),
                    points=Decimal(points),
                    standard_premium=Decimal(premiums[number] if premiums else points),
                    state="counted",
                    explanation="",
                )
                for number, (agent_id, points) in enumerate(policies)
            ),
        )
        await publish(self.bootstrap_servers, TIER_DECISIONS, [(customer_id, event.model_dump_json().encode())])

    async def representative_of(self, customer_id: str) -> dict[str, Any] | None:
        response = await self.client.get(f"/v1/customers/{customer_id}/representative", headers=self.ops)
        return response.json() if response.status_code == 200 else None

    async def wait_for(self, customer_id: str, agent_id: str | None, *, what: str = "") -> dict[str, Any]:
        async def check() -> dict[str, Any] | None:
            found = await self.representative_of(customer_id)
            return found if found is not None and found["agent_id"] == agent_id else None

        return await eventually(check, what=what or f"{customer_id} represented by {agent_id}")

    async def wait_for_agent(self, agent_id: str) -> dict[str, Any]:
        async def check() -> dict[str, Any] | None:
            response = await self.client.get(f"/v1/representatives/{agent_id}/customers", headers=self.ops)
            return response.json() if response.status_code == 200 else None

        return await eventually(check, what=f"profile of {agent_id}")

    async def history(self, customer_id: str) -> list[dict[str, Any]]:
        response = await self.client.get(f"/v1/customers/{customer_id}/representative-history", headers=self.ops)
        assert response.status_code == 200, response.text
        return list(response.json()["history"])

    async def published(self, customer_id: str, *, expect: int) -> list[dict[str, Any]]:
        records = await read_topic(self.bootstrap_servers, REPRESENTATIVES, expect=10_000, timeout_s=3)
        mine = [record.json() for record in records if record.key == customer_id.encode()]
        assert len(mine) == expect, mine
        return sorted(mine, key=lambda body: body["revision"])


@asynccontextmanager
async def platform(database_url: str, bootstrap_servers: str, api_tokens: dict[str, str]) -> AsyncIterator[Platform]:
    settings = service_settings(
        AssignmentSettings, database_url=database_url, bootstrap_servers=bootstrap_servers, tokens=api_tokens
    )
    async with running(create_app(settings), port=settings.http_port) as client:
        yield Platform(client, bootstrap_servers, api_tokens)


def ids(prefix: str, count: int) -> list[str]:
    base = fresh_id(prefix)
    return [f"{base}-{number}" for number in range(1, count + 1)]
