"""What scoring reads: every policy event type, all through one handler."""

from services.scoring import handlers
from services.scoring.repositories import ScoringUnitOfWork
from shared.events.inbound import POLICY_EVENT_ADAPTER, POLICY_EVENT_TYPES
from shared.processing import Route
from shared.topics import CUSTOMER_SCORES, POLICY_EVENTS

PUBLISHES_TO = (CUSTOMER_SCORES,)


def routes() -> list[Route[ScoringUnitOfWork]]:
    return [
        Route(
            topic=POLICY_EVENTS,
            adapter=POLICY_EVENT_ADAPTER,
            handlers=dict.fromkeys(POLICY_EVENT_TYPES, handlers.on_policy_changed),
        )
    ]
