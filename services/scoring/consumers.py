"""What scoring reads: every policy event type, all through one handler; and the group program's
client events from the CRM topic (every other CRM event type is ignored, counted as such)."""

from services.scoring import handlers
from services.scoring.repositories import ScoringUnitOfWork
from shared.events.inbound import CUSTOMER_EVENT_ADAPTER, POLICY_EVENT_ADAPTER, POLICY_EVENT_TYPES
from shared.processing import Route
from shared.topics import CUSTOMER_EVENTS, CUSTOMER_SCORES, GROUP_CLIENTS, POLICY_EVENTS

PUBLISHES_TO = (CUSTOMER_SCORES, GROUP_CLIENTS)


def routes() -> list[Route[ScoringUnitOfWork]]:
    return [
        Route(
            topic=POLICY_EVENTS,
            adapter=POLICY_EVENT_ADAPTER,
            handlers=dict.fromkeys(POLICY_EVENT_TYPES, handlers.on_policy_changed),
        ),
        Route(
            topic=CUSTOMER_EVENTS,
            adapter=CUSTOMER_EVENT_ADAPTER,
            handlers={
                "group_client_upserted": handlers.on_group_client_upserted,
                "group_experience_reported": handlers.on_group_experience_reported,
            },
        ),
    ]
