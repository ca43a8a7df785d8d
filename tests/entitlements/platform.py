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

    async def sign_hq_contracts(self, *codes: str, unit_cost: str = "100.00", vendor_id: str = "V-HQ") -> None:
        """HQ contracts reaching every branch, so value-added redemptions have a vendor (no silent zero)."""
        headers = self.as_role("hq_customer_service")
        added = await self.client.post("/v1/vendors", json={"vendor_id": vendor_id, "name": vendor_id}, headers=headers)
        assert added.status_code in (201, 409), added.text
        for code in codes:
            body = {"service_code": code, "vendor_id": vendor_id, "unit_cost": unit_cost}
            signed = await self.client.post("/v1/contracts", json=body, headers=headers)
            assert signed.status_code == 201, signed.text

    async def reverse(
        self, customer_id: str, redemption_id: str, *, reason: str | None = "no-show", role: str = "dev"
    ) -> httpx.Response:
        """A reversal, by default by another user (`dev`) than the call-center user who redeemed."""
        return await self.client.post(
            f"/v1/customers/{customer_id}/redemptions/{redemption_id}/reversal",
            json={} if reason is None else {"reason": reason},
            headers=self.as_role(role),
        )

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
