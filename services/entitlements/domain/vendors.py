"""Vendor contracts, the customer's branch and who bears a redemption's cost (rules.md section 6).

Pure rules; a refusal is a `shared.refusals` (`Conflict` for a contract rules.md does not allow,
`Invalid` for a vendor that cannot serve a redemption):
- HQ customer service signs contracts per service with a unit cost; each reaches a set of branches
  (None: every branch).
- A branch may sign its own contract for a service only where no HQ contract for that service reaches
  it; its unit cost may not exceed the lowest HQ unit cost for the service **(interpretation: with no
  HQ contract for the service at all there is no cap, HQ's approval is the check)**; it serves only
  that branch's VIPs and is usable only once HQ customer service has approved it.
- A redemption of a catalog service is charged to the customer's serving channel; one of a branch
  featured service to the branch that offers it.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Literal

from services.entitlements.domain.catalog import Service
from services.entitlements.domain.customers import PolicyShare
from shared.events.values import Standard
from shared.refusals import Conflict, Invalid


@dataclass(frozen=True, kw_only=True)
class Contract:
    """A vendor contract for one service; `branch` None means signed by HQ."""

    contract_id: str
    service_code: str
    vendor_id: str
    unit_cost: Decimal
    branch: str | None
    reach: frozenset[str] | None
    approved: bool

    @property
    def is_hq(self) -> bool:
        return self.branch is None

    def reaches(self, branch: str) -> bool:
        """Where the contract can be used: an HQ contract its reach, a branch contract its branch."""
        if self.branch is not None:
            return self.branch == branch
        return self.reach is None or branch in self.reach


def check_branch_contract(*, proposal: Contract, contracts: Iterable[Contract]) -> None:
    """Raises `Conflict` unless the branch may sign `proposal` next to `contracts`."""
    if proposal.branch is None:
        raise Conflict("a branch contract needs a branch", reason="contract_refused")
    hq = [c for c in contracts if c.is_hq and c.service_code == proposal.service_code]
    reaching = [c for c in hq if c.reaches(proposal.branch)]
    if reaching:
        raise Conflict(
            f"HQ contract {reaching[0].contract_id} already reaches branch {proposal.branch} "
            f"for {proposal.service_code}",
            reason="contract_refused",
        )
    if hq:
        cap = min(c.unit_cost for c in hq)
        if proposal.unit_cost > cap:
            raise Conflict(
                f"unit cost {proposal.unit_cost} exceeds the HQ unit cost {cap} for {proposal.service_code}",
                reason="contract_refused",
            )


def usable_contracts(*, contracts: Iterable[Contract], service_code: str, branch: str | None) -> list[Contract]:
    """HQ contracts that reach the branch; only where there are none, the branch's approved ones."""
    for_service = [c for c in contracts if c.service_code == service_code and c.approved]
    hq = [c for c in for_service if c.is_hq and (c.reach is None if branch is None else c.reaches(branch))]
    if hq:
        return hq
    if branch is None:
        return []
    return [c for c in for_service if not c.is_hq and c.reaches(branch)]


def choose_contract(
    *, contracts: Iterable[Contract], service_code: str, branch: str | None, vendor_id: str | None
) -> Contract | None:
    """The named vendor's usable contract, or the cheapest usable one; None when there is none.

    A redemption without a usable contract (a service delivered in-house) is recorded at no cost;
    one that names a vendor without a usable contract is refused with `Invalid` (`vendor_not_usable`).
    """
    usable = sorted(
        usable_contracts(contracts=contracts, service_code=service_code, branch=branch),
        key=lambda c: (c.unit_cost, c.contract_id),
    )
    if vendor_id is None:
        return usable[0] if usable else None
    for contract in usable:
        if contract.vendor_id == vendor_id:
            return contract
    raise Invalid(
        f"vendor {vendor_id} has no approved contract for {service_code} reaching branch {branch}",
        reason="vendor_not_usable",
    )


@dataclass(frozen=True, kw_only=True)
class CostBearer:
    kind: Literal["channel", "branch"]
    name: str


UNASSIGNED = "unassigned"


def cost_bearer(*, service: Service, serving_channel: str | None) -> CostBearer:
    """A featured service costs its branch; a catalog service the customer's serving channel."""
    if service.branch is not None:
        return CostBearer(kind="branch", name=service.branch)
    return CostBearer(kind="channel", name=serving_channel or UNASSIGNED)


def customer_branch(
    *, serving_channel: str | None, standard: Standard, policies: Iterable[PolicyShare]
) -> str | None:
    """The branch of the customer's main policy in the serving channel **(interpretation)**.

    The main policy is the one counting most under the customer's standard, a tie going to the most
    recently issued (as for the serving channel itself); when the serving channel has no counting
    policy, every policy is considered; a customer without policies has no branch.
    """

    def weight(policy: PolicyShare) -> tuple[int, Decimal, date]:
        figure = policy.points if standard is Standard.Y2015 else policy.standard_premium
        return (1 if policy.state == "counted" else 0, figure, policy.issued_on)

    listed = list(policies)
    in_channel = [p for p in listed if serving_channel is not None and p.channel == serving_channel]
    candidates = in_channel or listed
    if not candidates:
        return None
    return max(candidates, key=weight).branch


@dataclass(frozen=True, kw_only=True)
class FeaturedService:
    """A branch's own service, its vendor and unit cost, and HQ's decision (`pending`, `approved`, `rejected`)."""

    service: Service
    vendor_id: str | None
    unit_cost: Decimal
    state: str
