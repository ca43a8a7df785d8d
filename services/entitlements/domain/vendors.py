"""Vendor contracts, the customer's branch and who bears a redemption's cost (rules.md section 6).

Pure rules; a refusal is a `shared.refusals` (`Conflict` for a contract rules.md does not allow,
`Invalid` for a vendor that cannot serve a redemption):
- HQ customer service signs contracts per service with a unit cost; each reaches a set of branches
  (None: every branch).
- A branch may sign its own contract for a service only where no HQ contract for that service reaches
  it; its unit cost may not exceed the lowest HQ unit cost for the service **(interpretation: with no
  HQ contract for the service at all there is no cap, HQ's approval is the check)**; it serves only
  that branch's VIPs and is usable only once HQ customer service has approved it.
- Who pays: a basic service is borne by HQ customer service, a value-added service by the customer's
  serving channel, a featured service by the branch that registered it.
- A value-added redemption needs a usable contract (HQ's, or the customer's branch's approved one);
  with none it is refused (`Conflict`, reason `no_contract`), never recorded at cost zero by silence.
  A basic service without a contract is delivered in-house, at no vendor cost.
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

    One that names a vendor without a usable contract is refused with `Invalid` (`vendor_not_usable`);
    `contract_for_redemption` says what no contract at all means.
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


def contract_for_redemption(
    *, service: Service, contracts: Iterable[Contract], branch: str | None, vendor_id: str | None
) -> Contract | None:
    """The contract a catalog redemption uses; None only for a basic service delivered in-house.

    Raises `Conflict` (`no_contract`) for a value-added service with no usable contract, naming the
    service and the customer's branch, so the caller can tell HQ customer service what to sign.
    """
    contract = choose_contract(contracts=contracts, service_code=service.code, branch=branch, vendor_id=vendor_id)
    if contract is None and service.category == "value_added":
        raise Conflict(
            f"{service.code} ({service.name}) has no usable vendor contract for branch {branch or '(unknown)'}: "
            "HQ customer service signs one, or approves the branch's",
            reason="no_contract",
        )
    return contract


@dataclass(frozen=True, kw_only=True)
class CostBearer:
    kind: Literal["hq", "channel", "branch"]
    name: str


UNASSIGNED = "unassigned"
HQ_CUSTOMER_SERVICE = "hq_customer_service"


def cost_bearer(*, service: Service, serving_channel: str | None) -> CostBearer:
    """A featured service costs its branch; a basic service HQ customer service (基础服务由总公司客户服务部承担);
    a value-added service the customer's serving channel (依据客户归属原则,由渠道承担费用)."""
    if service.branch is not None:
        return CostBearer(kind="branch", name=service.branch)
    if service.category == "basic":
        return CostBearer(kind="hq", name=HQ_CUSTOMER_SERVICE)
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
