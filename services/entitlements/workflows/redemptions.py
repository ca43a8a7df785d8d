"""Redeeming and reversing a use of a service, each in one transaction under the customer's lock.

The customer's advisory lock serialises every redemption and reversal of that customer, so the count
of used units read under it is exact: two simultaneous requests can never take the same last unit,
and a repeated `Idempotency-Key` finds the first request's answer and takes nothing more.

The first answer under a key is remembered, a refusal by the rules (`not_eligible`,
`quota_used_up`) included, and answered again as it was. Such a refusal is raised with
`keep_effects=True`: the transaction commits the remembered answer, then the refusal is answered.
Every other refusal (unknown customer or service, a key reused for another request, a vendor that
cannot serve, no usable contract) is raised and remembers nothing: once HQ signs a contract, the
same request under the same key goes through.

A reversal (`reverse`) follows `domain.duties.check_reversal`: a reason, another user than the one
who redeemed, within the ruleset's window; the use stays on record, marked reversed.
"""

import hashlib
import json
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from services.entitlements.domain.catalog import Service, catalog_from
from services.entitlements.domain.customers import Customer
from services.entitlements.domain.duties import check_reversal
from services.entitlements.domain.entitlements import (
    Entitlement,
    decide_redemption,
    entitlement_for,
    visible_services,
)
from services.entitlements.domain.vendors import FeaturedService, contract_for_redemption, cost_bearer
from services.entitlements.repositories import EntitlementsUnitOfWork
from services.entitlements.repositories.redemptions import NewRedemption, StoredAnswer
from services.entitlements.workflows.customers import standing_of
from shared.refusals import Conflict, Forbidden, Invalid, NotFound, Refused

_REMEMBERED_REFUSALS: dict[int, type[Refused]] = {403: Forbidden, 409: Conflict}


@dataclass(frozen=True, kw_only=True)
class Redeemed:
    redemption_id: str
    remaining: int | None


@dataclass(frozen=True, kw_only=True)
class Reversed:
    redemption_id: str
    reversed_at: str
    remaining: int | None


@dataclass(frozen=True, kw_only=True)
class RedemptionRequest:
    customer_id: str
    code: str
    idempotency_key: str
    vendor_id: str | None
    note: str | None

    @property
    def fingerprint(self) -> str:
        return hashlib.sha256(json.dumps([self.code, self.vendor_id, self.note]).encode()).hexdigest()


@dataclass(frozen=True, kw_only=True)
class Supplier:
    """Who delivers a redemption and at what cost; no vendor for a service delivered in-house."""

    vendor_id: str | None
    contract_id: str | None
    unit_cost: Decimal


@dataclass(frozen=True, kw_only=True)
class Redemption:
    """A use granted: what is recorded of it."""

    redemption_id: str
    request: RedemptionRequest
    service: Service
    customer: Customer
    period_id: int | None
    supplier: Supplier
    as_of: date
    user_id: str

    def new_row(self, *, featured: bool) -> NewRedemption:
        """Value-added uses count against the open period; the cost goes to `cost_bearer`'s bearer."""
        bearer = cost_bearer(service=self.service, serving_channel=self.customer.serving_channel)
        return NewRedemption(
            redemption_id=self.redemption_id,
            customer_id=self.request.customer_id,
            service_code=self.request.code,
            featured=featured,
            period_id=self.period_id if self.service.category == "value_added" else None,
            vendor_id=self.supplier.vendor_id,
            contract_id=self.supplier.contract_id,
            unit_cost=self.supplier.unit_cost,
            bearer_kind=bearer.kind,
            bearer=bearer.name,
            channel=self.customer.serving_channel,
            branch=self.customer.branch,
            note=self.request.note,
            redeemed_on=self.as_of,
            redeemed_by=self.user_id,
        )


async def locked_customer(uow: EntitlementsUnitOfWork, customer_id: str) -> Customer:
    await uow.customers.lock([customer_id])
    customer = await uow.customers.get(customer_id)
    if customer is None:
        raise NotFound(f"customer {customer_id} is not known to the platform", reason="unknown_customer")
    return customer


async def service_for(
    uow: EntitlementsUnitOfWork, *, customer: Customer, code: str, as_of: date
) -> tuple[Service, FeaturedService | None] | None:
    """The catalog service, or the approved featured service the customer's branch offers them."""
    for service in catalog_from(uow.ruleset):
        if service.code == code:
            return service, None
    standing, _ = await standing_of(uow, customer)
    featured = {f.service.code: f for f in await uow.vendors.approved_featured(customer.branch)}
    visible = visible_services(
        catalog=(), featured=[f.service for f in featured.values()], standing=standing, as_of=as_of
    )
    return next(((s, featured[s.code]) for s in visible if s.code == code), None)


async def _entitlement(
    uow: EntitlementsUnitOfWork, *, customer: Customer, service: Service, as_of: date
) -> tuple[Entitlement, int | None]:
    """The customer's entitlement to `service` with the uses in its window, and the open period's id."""
    standing, period_id = await standing_of(uow, customer)
    usage = await uow.redemptions.usage(customer.customer_id, period_id=period_id)
    used = usage.get(service.code, 0)
    return entitlement_for(service=service, standing=standing, used=used, as_of=as_of), period_id


def _replayed(stored: StoredAnswer, request: RedemptionRequest) -> Redeemed:
    """The first answer under the key; a different request under it is refused."""
    if stored.fingerprint != request.fingerprint:
        raise Invalid(
            f"Idempotency-Key {request.idempotency_key!r} was used for a different request",
            reason="idempotency_key_reused",
        )
    if stored.status_code == 201:
        return Redeemed(redemption_id=stored.body["redemption_id"], remaining=stored.body["remaining"])
    raise _REMEMBERED_REFUSALS[stored.status_code](stored.body["detail"], reason=stored.body["reason"])


async def _remember(
    uow: EntitlementsUnitOfWork, request: RedemptionRequest, *, status_code: int, body: dict[str, object]
) -> None:
    await uow.redemptions.save_answer(
        request.customer_id,
        idempotency_key=request.idempotency_key,
        answer=StoredAnswer(fingerprint=request.fingerprint, status_code=status_code, body=body),
    )


async def _supplier(
    uow: EntitlementsUnitOfWork,
    *,
    customer: Customer,
    request: RedemptionRequest,
    service: Service,
    featured: FeaturedService | None,
) -> Supplier:
    """A featured service's own vendor, or the contract `contract_for_redemption` picks: `Invalid` for a
    named vendor that cannot serve, `Conflict` (`no_contract`) for a value-added service with none."""
    code, vendor_id = request.code, request.vendor_id
    if featured is not None:
        if vendor_id is not None and vendor_id != featured.vendor_id:
            raise Invalid(f"{code} is delivered by {featured.vendor_id}, not {vendor_id}", reason="vendor_not_usable")
        return Supplier(vendor_id=featured.vendor_id, contract_id=None, unit_cost=featured.unit_cost)
    contract = contract_for_redemption(
        service=service, contracts=await uow.vendors.contracts_for(code), branch=customer.branch, vendor_id=vendor_id
    )
    if contract is None:
        return Supplier(vendor_id=None, contract_id=None, unit_cost=Decimal("0.00"))
    return Supplier(vendor_id=contract.vendor_id, contract_id=contract.contract_id, unit_cost=contract.unit_cost)


async def redeem(
    uow: EntitlementsUnitOfWork, *, request: RedemptionRequest, as_of: date, user_id: str, new_redemption_id: str
) -> Redeemed:
    """Takes one unit if the customer is entitled to one; see the module for what is remembered."""
    customer = await locked_customer(uow, request.customer_id)
    stored = await uow.redemptions.answer_for(request.customer_id, idempotency_key=request.idempotency_key)
    if stored is not None:
        return _replayed(stored, request)
    found = await service_for(uow, customer=customer, code=request.code, as_of=as_of)
    if found is None:
        raise NotFound(f"no service {request.code!r} for customer {request.customer_id}", reason="unknown_service")
    service, featured = found
    entitlement, period_id = await _entitlement(uow, customer=customer, service=service, as_of=as_of)
    try:
        granted = decide_redemption(entitlement)
    except (Forbidden, Conflict) as refused:
        body: dict[str, object] = {"reason": refused.reason, "detail": refused.detail}
        await _remember(uow, request, status_code=refused.status, body=body)
        raise type(refused)(refused.detail, reason=refused.reason, keep_effects=True) from refused
    supplier = await _supplier(uow, customer=customer, request=request, service=service, featured=featured)
    redemption = Redemption(
        redemption_id=new_redemption_id,
        request=request,
        service=service,
        customer=customer,
        period_id=period_id,
        supplier=supplier,
        as_of=as_of,
        user_id=user_id,
    )
    await uow.redemptions.save_redemption(redemption.new_row(featured=featured is not None))
    await _remember(
        uow, request, status_code=201, body={"redemption_id": new_redemption_id, "remaining": granted.remaining}
    )
    return Redeemed(redemption_id=new_redemption_id, remaining=granted.remaining)


async def reverse(
    uow: EntitlementsUnitOfWork, *, customer_id: str, redemption_id: str, reason: str | None, as_of: date, user_id: str
) -> Reversed:
    """Restores the unit; the redemption is kept, marked reversed, with who did it and why, and the
    cost report lists it among its reversals."""
    customer = await locked_customer(uow, customer_id)
    redemption = await uow.redemptions.find(redemption_id)
    if redemption is None or redemption.customer_id != customer_id:
        raise NotFound(f"customer {customer_id} has no redemption {redemption_id}", reason="unknown_redemption")
    if redemption.reversed_at is not None:
        reversed_on = redemption.reversed_at.isoformat()
        raise Conflict(f"redemption {redemption_id} was reversed at {reversed_on}", reason="already_reversed")
    check_reversal(
        redeemed_on=redemption.redeemed_on,
        redeemed_by=redemption.redeemed_by,
        reversed_by=user_id,
        reason=reason,
        as_of=as_of,
        ruleset=uow.ruleset,
    )
    reversed_at = await uow.redemptions.reverse(redemption_id, by=user_id, reason=reason)
    remaining: int | None = None
    found = await service_for(uow, customer=customer, code=redemption.service_code, as_of=as_of)
    if found is not None:
        remaining = (await _entitlement(uow, customer=customer, service=found[0], as_of=as_of))[0].remaining
    return Reversed(redemption_id=redemption_id, reversed_at=reversed_at.isoformat(), remaining=remaining)
