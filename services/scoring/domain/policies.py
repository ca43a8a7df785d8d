"""The policy as the rules read it, and what one change of it means for its holders.

`Policy` mirrors the `pas.policy-events` contract's policy state; `mapping.policy_of` builds it, so a
contract change touches the mapping, never the rules. Invariants:

- Every event carries the policy's full state, so a version not above the applied one is stale: it
  is recorded and changes nothing in the current state (the events of one policy may arrive out of
  order). It may still be the version in force on the day before cutover, which `cutover` keeps.
- A reconciliation (`policy_reconciled`, sent by `vip reconcile --publish` from the policy admin
  system's snapshot, the source of record) applies at the applied version too when the state differs:
  it corrects what the platform holds for that version. Below the applied version, or with the very
  state already held, it is stale like any event.
- A change re-scores every customer it touches: the holder now, the holder before (as stored, and as
  the event names it for a policyholder change), each once, in that order.
"""

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from shared.events.values import Channel, PaymentMode, PolicyStatus, ProductType


@dataclass(frozen=True, slots=True)
class Policy:
    """A policy after its last applied change. Only the main coverage's premium is carried."""

    policy_no: str
    version: int
    holder_id: str
    channel: Channel
    branch: str
    agent_id: str | None
    status: PolicyStatus
    issued_on: date
    cooling_off_ends_on: date | None
    product_type: ProductType
    payment_term_years: int
    payment_mode: PaymentMode
    modal_premium: Decimal
    account_value: Decimal
    annuity_converted_premium: Decimal
    premium_waived: bool
    paid_up: bool
    loan_outstanding: Decimal


@dataclass(frozen=True, slots=True)
class PolicyChange:
    """One policy event: which, when, and the policy's state after it."""

    event_id: str
    event_type: str
    occurred_at: datetime
    previous_holder_id: str | None
    policy: Policy


RECONCILED = "policy_reconciled"


def is_stale(change: PolicyChange, *, stored: Policy | None) -> bool:
    """True when the stored policy is already at this version or a later one (a reconciliation: at a
    later one, or at this one with the same state)."""
    if stored is None:
        return False
    if change.event_type == RECONCILED:
        return change.policy.version < stored.version or change.policy == stored
    return change.policy.version <= stored.version


def is_reconciliation(change: PolicyChange) -> bool:
    return change.event_type == RECONCILED


def affected_customers(change: PolicyChange, *, stored: Policy | None) -> list[str]:
    """The customers to re-score, each once: the new holder, the stored holder, the previous holder."""
    candidates = (change.policy.holder_id, stored.holder_id if stored else None, change.previous_holder_id)
    return list(dict.fromkeys(customer_id for customer_id in candidates if customer_id))
