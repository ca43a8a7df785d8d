"""Pending points at the call center (issue 17, point 13), against the real PostgreSQL and broker.

A customer whose only policy is still in cooling-off has no tier and no counted points; the look-up
says how many points wait and the day they count from, so an agent can answer "when do I become VIP?".
"""

from datetime import date
from decimal import Decimal

from services.entitlements.api.customers import customer_view
from services.entitlements.domain.customers import Customer
from shared.events.values import Tier
from tests.builders.decisions import tier_decided
from tests.entitlements.platform import platform
from tests.support import fresh_id


async def test_the_look_up_shows_pending_points_and_the_day_they_count_from(
    database_url: str, bootstrap_servers: str, api_tokens: dict[str, str]
) -> None:
    async with platform(database_url, bootstrap_servers, api_tokens) as p:
        customer = fresh_id("C")
        pending = tier_decided(customer, revision=1, tier=None, points="0.00").model_copy(
            update={"pending_points": Decimal("36000.00"), "pending_from": date(2026, 10, 19)}
        )
        await p.send(pending)
        waiting = await p.customer_at_revision(customer, None)
        await p.send(tier_decided(customer, revision=2, tier=Tier.GOLD, points="36000.00"))
        vip = await p.customer_at_revision(customer, Tier.GOLD)

    assert (waiting["tier"], waiting["points"], waiting["pending_points"], waiting["pending_from"]) == (
        None,
        "0.00",
        "36000.00",
        "2026-10-19",
    )
    assert (vip["tier"], vip["points"], vip["pending_points"], vip["pending_from"]) == (
        "gold",
        "36000.00",
        "0.00",
        None,
    )


def test_the_documented_view_formats_the_pending_fields_as_the_look_up_does() -> None:
    """`customer_view` documents the body `lookup.CUSTOMER_VIEW` builds: two decimals, ISO date."""
    body = customer_view(Customer(customer_id="C1", pending_points=Decimal("36000"), pending_from=date(2026, 10, 19)))
    assert (body["pending_points"], body["pending_from"]) == ("36000.00", "2026-10-19")
