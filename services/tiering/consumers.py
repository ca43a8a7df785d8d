"""What tiering reads: customers' scores, and from CRM the legacy VIP roster and the customer
profiles (their branch, rules.md section 4); for the group program, group clients' scores and the
feedback (complaints, surveys) entitlements reports. The group program's CRM events have no handler
here: they are ignored (counted in `vip_events_ignored_total`).
"""

from services.tiering import handlers
from services.tiering.repositories import TieringUnitOfWork
from shared.events.group import GROUP_CLIENT_SCORED_ADAPTER, GROUP_FEEDBACK_REPORTED_ADAPTER
from shared.events.inbound import CUSTOMER_EVENT_ADAPTER
from shared.events.internal import CUSTOMER_SCORED_ADAPTER
from shared.processing import Route
from shared.topics import (
    CUSTOMER_EVENTS,
    CUSTOMER_SCORES,
    GROUP_CLIENTS,
    GROUP_FEEDBACK,
    GROUP_LEVELS,
    TIER_DECISIONS,
)

PUBLISHES_TO = (TIER_DECISIONS, GROUP_LEVELS)


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
        Route(
            topic=GROUP_CLIENTS,
            adapter=GROUP_CLIENT_SCORED_ADAPTER,
            handlers={"group_client_scored": handlers.on_group_client_scored},
        ),
        Route(
            topic=GROUP_FEEDBACK,
            adapter=GROUP_FEEDBACK_REPORTED_ADAPTER,
            handlers={"group_feedback_reported": handlers.on_group_feedback_reported},
        ),
    ]
