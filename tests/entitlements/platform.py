"""Helpers for the entitlements integration tests: feed tier decisions, call the API as a role."""

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx

from services.entitlements.config import EntitlementsSettings
from services.entitlements.main import create_app
from shared.events.internal import RepresentativeChanged, TierDecided
from shared.events.values import Tier
from tests.builders.decisions import tier_decided
from tests.support import auth, eventually, fresh_id, publish, running, service_settings

CATALOG_CODES = [
    "green_channel",
    "private_butler",
    "claims_angel",
    "policy_service_express",
    "convenience_service",
    "warm_care",
    "news_digest",
    "health_hotline",
    "expert_appointment",
    "health_checkup",
    "domestic_medical_rescue",
    "overseas_medical_rescue",
    "road_rescue",
    "airport_lounge",
    "designated_driver",
    "vip_reading",
]
QUOTAS = {"expert_appointment": 1, "health_checkup": 1, "airport_lounge": 2, "designated_driver": 2, "vip_reading": 1}


class Platform:
    """The running service, its client and the tokens, with the few steps every test repeats."""

    def __init__(self, client: httpx.AsyncClient, tokens: dict[str, str], bootstrap_servers: str) -> None:
        self.client, self.tokens, self.bootstrap_servers = client, tokens, bootstrap_servers

    def as_role(self, role: str) -> dict[str, str]:
        return auth(self.tokens[role])

    async def send(self, *events: TierDecided | RepresentativeChanged) -> None:
        for event in events:
            await publish(self.bootstrap_servers, event.topic, [(event.customer_id, event.model_dump_json().encode())])

    async def customer_at_revision(self, customer_id: str, tier: Tier | None) -> dict[str, Any]:
        async def seen() -> dict[str, Any] | None:
            response = await self.client.get(f"/v1/customers/{customer_id}", headers=self.as_role("call_center"))
            body: dict[str, Any] = response.json()
            ok = response.status_code == 200 and body["tier"] == (tier.value if tier else None)
            return body if ok else None

        return await eventually(seen, what=f"{customer_id} at {tier}")

    async def vip(self, tier: Tier, **kwargs: Any) -> str:
        customer_id = fresh_id("C")
        await self.send(tier_decided(customer_id, revision=1, tier=tier, **kwargs))
        await self.customer_at_revision(customer_id, tier)
        return customer_id

    async def entitlements(self, customer_id: str, **params: str) -> dict[str, Any]:
        response = await self.client.get(
            f"/v1/customers/{customer_id}/entitlements", params=params, headers=self.as_role("call_center")
        )
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    async def redeem(self, customer_id: str, code: str, *, key: str | None = None, **body: Any) -> httpx.Response:
        return await self.client.post(
            f"/v1/customers/{customer_id}/entitlements/{code}/redemptions",
            json={"vendor_id": None, "note": None, **body},
            headers={**self.as_role("call_center"), "Idempotency-Key": key or uuid.uuid4().hex},
        )


@asynccontextmanager
async def platform(database_url: str, bootstrap_servers: str, api_tokens: dict[str, str]) -> AsyncIterator[Platform]:
    settings = service_settings(
        EntitlementsSettings,
        database_url=database_url,
        bootstrap_servers=bootstrap_servers,
        tokens=api_tokens,
        db_pool_size=20,
    )
    async with running(create_app(settings), port=settings.http_port) as client:
        yield Platform(client, api_tokens, bootstrap_servers)


def by_code(body: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {entry["code"]: entry for entry in body["entitlements"]}
