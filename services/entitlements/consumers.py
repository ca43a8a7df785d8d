"""What entitlements reads: tier decisions from tiering and representatives from assignment."""

from services.entitlements import handlers
from services.entitlements.repositories import EntitlementsUnitOfWork
from shared.events.internal import REPRESENTATIVE_CHANGED_ADAPTER, TIER_DECIDED_ADAPTER
from shared.processing import Route
from shared.topics import REPRESENTATIVES, TIER_DECISIONS

PUBLISHES_TO: tuple[str, ...] = ()


def routes() -> list[Route[EntitlementsUnitOfWork]]:
    return [
        Route(
            topic=TIER_DECISIONS,
            adapter=TIER_DECIDED_ADAPTER,
            handlers={"tier_decided": handlers.on_tier_decided},
        ),
        Route(
            topic=REPRESENTATIVES,
            adapter=REPRESENTATIVE_CHANGED_ADAPTER,
            handlers={"representative_changed": handlers.on_representative_changed},
        ),
    ]
