"""Vendors, their contracts and the branches' featured services.

Not on `IdentityMap`: these rows are inserted once (an insert that does nothing tells the caller the
id is taken, where the map's upsert would overwrite it) and decided once by a guarded update; a
decision takes the contract's or the featured service's advisory lock (`shared.locks`) first.
"""

from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncConnection

from services.entitlements.domain.catalog import Service
from services.entitlements.domain.vendors import Contract, FeaturedService
from services.entitlements.tables import contracts, featured_services, vendors
from shared.events.values import Tier
from shared.locks import lock_keys

CONTRACT_LOCK_SCOPE = "entitlements-contract"
FEATURED_LOCK_SCOPE = "entitlements-featured"


def _contract(row: Any) -> Contract:
    return Contract(
        contract_id=row.contract_id,
        service_code=row.service_code,
        vendor_id=row.vendor_id,
        unit_cost=row.unit_cost,
        branch=row.branch,
        reach=frozenset(row.reach) if row.reach is not None else None,
        approved=row.state == "approved",
    )


def _featured(row: Any) -> FeaturedService:
    return FeaturedService(
        service=Service(
            code=row.code,
            name=row.name,
            category=row.category,
            tiers=frozenset(Tier(t) for t in row.tiers),
            yearly_quota=row.yearly_quota,
            branch=row.branch,
        ),
        vendor_id=row.vendor_id,
        unit_cost=row.unit_cost,
        state=row.state,
    )


class VendorRepository:
    def __init__(self, connection: AsyncConnection) -> None:
        self._connection = connection

    async def add_vendor(self, *, vendor_id: str, name: str, by: str) -> bool:
        """False when the vendor id is already taken."""
        added = await self._connection.scalar(
            insert(vendors)
            .values(vendor_id=vendor_id, name=name, created_by=by)
            .on_conflict_do_nothing()
            .returning(vendors.c.vendor_id)
        )
        return added is not None

    async def vendor_exists(self, vendor_id: str) -> bool:
        found = await self._connection.scalar(select(vendors.c.vendor_id).where(vendors.c.vendor_id == vendor_id))
        return found is not None

    async def list_vendors(self) -> list[dict[str, Any]]:
        rows = await self._connection.execute(select(vendors.c.vendor_id, vendors.c.name).order_by(vendors.c.vendor_id))
        return [dict(row._mapping) for row in rows]

    async def contracts_for(self, service_code: str | None = None) -> list[Contract]:
        statement = select(contracts).order_by(contracts.c.contract_id)
        if service_code is not None:
            statement = statement.where(contracts.c.service_code == service_code)
        return [_contract(row) for row in await self._connection.execute(statement)]

    async def contract_rows(self) -> list[dict[str, Any]]:
        rows = await self._connection.execute(select(contracts).order_by(contracts.c.created_at))
        return [dict(row._mapping) for row in rows]

    async def add_contract(self, contract: Contract, *, by: str) -> None:
        await self._connection.execute(
            insert(contracts).values(
                contract_id=contract.contract_id,
                service_code=contract.service_code,
                vendor_id=contract.vendor_id,
                unit_cost=contract.unit_cost,
                branch=contract.branch,
                reach=sorted(contract.reach) if contract.reach is not None else None,
                state="approved" if contract.approved else "pending",
                signed_by=by,
            )
        )

    async def lock_contract(self, contract_id: str) -> None:
        """Held to the end of the transaction: two decisions on one contract are taken one at a time."""
        await lock_keys(self._connection, scope=CONTRACT_LOCK_SCOPE, keys=[contract_id])

    async def lock_featured(self, code: str) -> None:
        await lock_keys(self._connection, scope=FEATURED_LOCK_SCOPE, keys=[code])

    async def contract_state(self, contract_id: str) -> tuple[Contract, str, str] | None:
        """The contract, its state and who signed it, its row locked (`FOR UPDATE`: it exists)."""
        statement = select(contracts).where(contracts.c.contract_id == contract_id).with_for_update()
        row = (await self._connection.execute(statement)).one_or_none()
        return (_contract(row), row.state, row.signed_by) if row else None

    async def decide_contract(self, contract_id: str, *, approve: bool, by: str, comment: str | None) -> str | None:
        """Decides a pending contract; None when it was not pending (nothing changed)."""
        decided: str | None = await self._connection.scalar(
            update(contracts)
            .where(contracts.c.contract_id == contract_id, contracts.c.state == "pending")
            .returning(contracts.c.state)
            .values(
                state="approved" if approve else "rejected",
                decided_by=by,
                decision_comment=comment,
                decided_at=func.now(),
            )
        )
        return decided

    async def add_featured(self, featured: FeaturedService, *, by: str) -> bool:
        """False when the code is already taken."""
        service = featured.service
        added = await self._connection.scalar(
            insert(featured_services)
            .values(
                code=service.code,
                name=service.name,
                branch=service.branch,
                category=service.category,
                tiers=sorted(t.value for t in service.tiers),
                yearly_quota=service.yearly_quota,
                vendor_id=featured.vendor_id,
                unit_cost=featured.unit_cost,
                state="pending",
                registered_by=by,
            )
            .on_conflict_do_nothing()
            .returning(featured_services.c.code)
        )
        return added is not None

    async def featured_registration(self, code: str) -> tuple[FeaturedService, str] | None:
        """The featured service and who registered it, its row locked (`FOR UPDATE`: it exists)."""
        statement = select(featured_services).where(featured_services.c.code == code).with_for_update()
        row = (await self._connection.execute(statement)).one_or_none()
        return (_featured(row), row.registered_by) if row else None

    async def approved_featured(self, branch: str | None) -> list[FeaturedService]:
        if branch is None:
            return []
        rows = await self._connection.execute(
            select(featured_services)
            .where(featured_services.c.branch == branch, featured_services.c.state == "approved")
            .order_by(featured_services.c.code)
        )
        return [_featured(row) for row in rows]

    async def all_featured(self) -> list[FeaturedService]:
        rows = await self._connection.execute(select(featured_services).order_by(featured_services.c.code))
        return [_featured(row) for row in rows]

    async def decide_featured(self, code: str, *, approve: bool, by: str, comment: str | None) -> bool:
        """Decides a pending featured service; False when it was not pending (nothing changed)."""
        decided = await self._connection.scalar(
            update(featured_services)
            .where(featured_services.c.code == code, featured_services.c.state == "pending")
            .returning(featured_services.c.code)
            .values(
                state="approved" if approve else "rejected",
                decided_by=by,
                decision_comment=comment,
                decided_at=func.now(),
            )
        )
        return decided is not None
