"""CRM customer profiles (birthday, branch), on an identity map for the transaction.

Locked (scope "assignment-profile") before a change; written in one upsert at `flush`. Read by the
duties: the birthday for holiday care, the branch for a campaign's scope.
"""

from collections.abc import Iterable, Mapping
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from services.assignment.domain.duties import CrmProfile
from services.assignment.tables import customer_profiles
from shared.identity_map import IdentityMap
from shared.sql import row_of


def profile_of(row: Mapping[str, Any]) -> CrmProfile:
    return CrmProfile(
        customer_id=row["customer_id"], name=row["name"], birthday=row["birthday"], branch=row["branch"],
        at=row["profile_at"],
    )


def row_of_profile(profile: CrmProfile) -> dict[str, Any]:
    row = row_of(profile)
    row["profile_at"] = row.pop("at")
    return row


class ProfileRepository:
    def __init__(self, connection: AsyncConnection) -> None:
        self._map = IdentityMap[CrmProfile](
            connection, table=customer_profiles, key="customer_id", lock_scope="assignment-profile",
            value_of=profile_of, row_of=row_of_profile,
        )

    async def lock(self, customer_ids: Iterable[str]) -> None:
        await self._map.lock(customer_ids)

    async def load(self, customer_ids: Iterable[str]) -> None:
        await self._map.load(customer_ids)

    async def get(self, customer_id: str) -> CrmProfile | None:
        return await self._map.get(customer_id)

    def save_profile(self, profile: CrmProfile) -> None:
        self._map.save(profile.customer_id, profile)

    async def flush(self) -> None:
        await self._map.flush()
