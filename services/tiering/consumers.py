"""What tiering reads: customers' scores, and from CRM the legacy VIP roster and the customer
profiles (their branch, rules.md section 4). The group program's CRM events have no handler here:
they are ignored (counted in `vip_events_ignored_total`).
"""

from services.tiering import handlers
from services.tiering.repositories import TieringUnitOfWork
from shared.events.inbound import CUSTOMER_EVENT_ADAPTER
from shared.events.internal import CUSTOMER_SCORED_ADAPTER
from shared.processing import Route
from shared.topics import CUSTOMER_EVENTS, CUSTOMER_SCORES, TIER_DECISIONS

PUBLISHES_TO = (TIER_DECISIONS,)


def routes() -> list[Route[TieringUnitOfWork]]:
    return [
        Route(
            topic=CUSTOMER_SCORES,
            adapter=CUSTOMER_SCORED_ADAPTER,
            handlers={"customer_scored": handlers.on_customer_scored},
        ),
        Route(
            topic=CUSTOMER_EVENTS,
            adapter=CUSTOMER_EVENT_ADAPTER,
            handlers={
                "legacy_vip_imported": handlers.on_legacy_vip_imported,
                "customer_upserted": handlers.on_customer_upserted,
            },
        ),
    ]
