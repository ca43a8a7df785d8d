"""Redeeming and reversing a use of a service, each in one transaction under the customer's lock.

The lock on the customer's row serialises every redemption and reversal of that customer, so the
count of used units read under it is exact: two simultaneous requests can never take the same last
unit, and a repeated `Idempotency-Key` finds the first request's answer and takes nothing more.
"""

import hashlib
import json
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from services.entitlements.domain import (
    Granted,
    Service,
    catalog_from,
    decide_redemption,
    entitlement_for,
    visible_services,
)
from services.entitlements.redemption_repository import NewRedemption, StoredAnswer
from services.entitlements.repository import CustomerRecord, EntitlementsUnitOfWork
from services.entitlements.vendor_repository import FeaturedService
from services.entitlements.vendors import VendorNotUsable, choose_contract, cost_bearer


@dataclass(frozen=True, kw_only=True)
class Answer:
    status_code: int
    body: dict[str, Any]


def refusal(status_code: int, reason: str, detail: str) -> Answer:
    return Answer(status_code=status_code, body={"reason": reason, "detail": detail})


def request_fingerprint(*, code: str, vendor_id: str | None, note: str | None) -> str:
    return hashlib.sha256(json.dumps([code, vendor_id, note]).encode()).hexdigest()


async def service_for(
    uow: EntitlementsUnitOfWork, *, customer: CustomerRecord, code: str, as_of: date
) -> tuple[Service, FeaturedService | None] | None:
    """The catalog service, or the approved featured service the customer's branch offers them."""
    catalog = catalog_from(uow.ruleset)
    for service in catalog:
        if service.code == code:
            return service, None
    standing, _ = await uow.standing_of(customer)
    featured = {f.service.code: f for f in await uow.vendors.approved_featured(customer.branch)}
    visible = visible_services(
        catalog=(), featured=[f.service for f in featured.values()], standing=standing, as_of=as_of
    )
    return next(((s, featured[s.code]) for s in visible if s.code == code), None)


async def redeem(
    uow: EntitlementsUnitOfWork,
    *,
    customer_id: str,
    code: str,
    idempotency_key: str,
    vendor_id: str | None,
    note: str | None,
    as_of: date,
    user_id: str,
    new_redemption_id: str,
) -> Answer:
    customer = await uow.customers.find(customer_id, lock=True)
    if customer is None:
        return refusal(404, "unknown_customer", f"customer {customer_id} is not known to the platform")
    fingerprint = request_fingerprint(code=code, vendor_id=vendor_id, note=note)
    stored = await uow.redemptions.answer_for(customer_id, idempotency_key=idempotency_key)
    if stored is not None:
        if stored.fingerprint != fingerprint:
            return refusal(
                422, "idempotency_key_reused", f"Idempotency-Key {idempotency_key!r} was used for a different request"
            )
        return Answer(status_code=stored.status_code, body=stored.body)

    found = await service_for(uow, customer=customer, code=code, as_of=as_of)
    if found is None:
        return refusal(404, "unknown_service", f"no service {code!r} for customer {customer_id}")
    service, featured = found
    standing, period_id = await uow.standing_of(customer)
    usage = await uow.redemptions.usage(customer_id, period_id=period_id)
    entitlement = entitlement_for(service=service, standing=standing, used=usage.get(code, 0), as_of=as_of)
    decision = decide_redemption(entitlement)

    if not isinstance(decision, Granted):
        answer = refusal(403 if decision.reason == "not_eligible" else 409, decision.reason, decision.detail)
        await uow.redemptions.remember_answer(
            customer_id,
            idempotency_key=idempotency_key,
            answer=StoredAnswer(fingerprint=fingerprint, status_code=answer.status_code, body=answer.body),
        )
        return answer

    if featured is not None:
        if vendor_id is not None and vendor_id != featured.vendor_id:
            return refusal(422, "vendor_not_usable", f"{code} is delivered by {featured.vendor_id}, not {vendor_id}")
        chosen_vendor, contract_id = featured.vendor_id, None
        unit_cost: Decimal | None = featured.unit_cost
    else:
        try:
            contract = choose_contract(
                contracts=await uow.vendors.contracts_for(code),
                service_code=code,
                branch=customer.branch,
                vendor_id=vendor_id,
            )
        except VendorNotUsable as error:
            return refusal(422, "vendor_not_usable", str(error))
        chosen_vendor = contract.vendor_id if contract else None
        contract_id = contract.contract_id if contract else None
        unit_cost = contract.unit_cost if contract else None
    bearer = cost_bearer(service=service, serving_channel=customer.serving_channel)
    await uow.redemptions.add(
        NewRedemption(
            redemption_id=new_redemption_id,
            customer_id=customer_id,
            service_code=code,
            featured=featured is not None,
            period_id=period_id if service.category == "value_added" else None,
            vendor_id=chosen_vendor,
            contract_id=contract_id,
            unit_cost=unit_cost if unit_cost is not None else Decimal("0.00"),
            bearer_kind=bearer.kind,
            bearer=bearer.name,
            channel=customer.serving_channel,
            branch=customer.branch,
            note=note,
            redeemed_on=as_of,
            redeemed_by=user_id,
        )
    )
    answer = Answer(status_code=201, body={"redemption_id": new_redemption_id, "remaining": decision.remaining})
    await uow.redemptions.remember_answer(
        customer_id,
        idempotency_key=idempotency_key,
        answer=StoredAnswer(fingerprint=fingerprint, status_code=201, body=answer.body),
    )
    return answer


async def reverse(
    uow: EntitlementsUnitOfWork,
    *,
    customer_id: str,
    redemption_id: str,
    reason: str | None,
    as_of: date,
    user_id: str,
) -> Answer:
    """Restores the unit; the redemption is kept, marked reversed, with who did it and why."""
    customer = await uow.customers.find(customer_id, lock=True)
    if customer is None:
        return refusal(404, "unknown_customer", f"customer {customer_id} is not known to the platform")
    redemption = await uow.redemptions.find(redemption_id)
    if redemption is None or redemption.customer_id != customer_id:
        return refusal(404, "unknown_redemption", f"customer {customer_id} has no redemption {redemption_id}")
    if redemption.reversed_at is not None:
        return refusal(
            409, "already_reversed", f"redemption {redemption_id} was reversed at {redemption.reversed_at.isoformat()}"
        )
    reversed_at = await uow.redemptions.reverse(redemption_id, by=user_id, reason=reason)
    remaining: int | None = None
    found = await service_for(uow, customer=customer, code=redemption.service_code, as_of=as_of)
    if found is not None:
        standing, period_id = await uow.standing_of(customer)
        usage = await uow.redemptions.usage(customer_id, period_id=period_id)
        remaining = entitlement_for(
            service=found[0], standing=standing, used=usage.get(redemption.service_code, 0), as_of=as_of
        ).remaining
    return Answer(
        status_code=200,
        body={"redemption_id": redemption_id, "reversed_at": reversed_at.isoformat(), "remaining": remaining},
    )
