"""A VIP customer as assignment stores them: the row's values as a frozen value, and back."""

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from services.assignment.domain import Basis, Choice, PolicyShare
from shared.events.values import Channel, Tier


@dataclass(frozen=True, slots=True)
class Customer:
    customer_id: str
    tier_revision: int
    tier: Tier | None
    serving_channel: Channel | None
    policies: tuple[PolicyShare, ...]
    representative: Choice | None
    decided_at: datetime | None
    since: date | None
    top_performers_first: bool
    unassigned_since: date | None
    unassigned_reason: str | None
    revision: int

    @property
    def is_vip(self) -> bool:
        return self.tier is not None

    @property
    def reason(self) -> str:
        """Why the customer has their representative, or why they have none."""
        if self.representative is not None:
            return self.representative.reason
        return self.unassigned_reason or ""


def shares_json(policies: Collection[PolicyShare]) -> list[dict[str, Any]]:
    return [
        {
            "policy_no": share.policy_no,
            "agent_id": share.agent_id,
            "contribution": str(share.contribution),
            "counted": share.counted,
        }
        for share in policies
    ]


def customer_of(row: Mapping[Any, Any]) -> Customer:
    representative = None
    if row["representative_id"] is not None:
        representative = Choice(
            agent_id=row["representative_id"],
            basis=Basis(row["basis"]),
            reason=row["reason"],
            revisable_by=frozenset(row["revisable_by"]),
        )
    return Customer(
        customer_id=row["customer_id"],
        tier_revision=row["tier_revision"],
        tier=Tier(row["tier"]) if row["tier"] else None,
        serving_channel=Channel(row["serving_channel"]) if row["serving_channel"] else None,
        policies=tuple(
            PolicyShare(
                policy_no=item["policy_no"],
                agent_id=item["agent_id"],
                contribution=Decimal(item["contribution"]),
                counted=item["counted"],
            )
            for item in row["policies"]
        ),
        representative=representative,
        decided_at=row["decided_at"],
        since=row["since"],
        top_performers_first=row["top_performers_first"],
        unassigned_since=row["unassigned_since"],
        unassigned_reason=row["unassigned_reason"],
        revision=row["revision"],
    )
