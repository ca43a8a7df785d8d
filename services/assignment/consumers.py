"""What assignment reads: the HR events, the tier decisions, and the CRM's customer profiles (for the
duties' birthdays; the topic's other event types are not assignment's and are ignored)."""

from services.assignment import handlers
from services.assignment.repositories import AssignmentUnitOfWork
from shared.events.group import GROUP_LEVEL_DECIDED_ADAPTER
from shared.events.inbound import AGENT_EVENT_ADAPTER, CUSTOMER_EVENT_ADAPTER
from shared.events.internal import TIER_DECIDED_ADAPTER
from shared.processing import Route
from shared.topics import ACCOUNT_MANAGERS, AGENT_EVENTS, CUSTOMER_EVENTS, GROUP_LEVELS, REPRESENTATIVES, TIER_DECISIONS

PUBLISHES_TO = (REPRESENTATIVES, ACCOUNT_MANAGERS)


def routes() -> list[Route[AssignmentUnitOfWork]]:
    return [
        Route(
            topic=AGENT_EVENTS,
            adapter=AGENT_EVENT_ADAPTER,
            handlers={
                "agent_upserted": handlers.on_agent_upserted,
                "agent_departed": handlers.on_agent_departed,
                "agent_disqualified": handlers.on_agent_disqualified,
                "customer_contacted": handlers.on_customer_contacted,
            },
        ),
        Route(
            topic=TIER_DECISIONS,
            adapter=TIER_DECIDED_ADAPTER,
            handlers={"tier_decided": handlers.on_tier_decided},
        ),
        Route(
            topic=GROUP_LEVELS,
            adapter=GROUP_LEVEL_DECIDED_ADAPTER,
            handlers={"group_level_decided": handlers.on_group_level_decided},
        ),
        Route(
            topic=CUSTOMER_EVENTS,
            adapter=CUSTOMER_EVENT_ADAPTER,
            handlers={"customer_upserted": handlers.on_customer_upserted},
        ),
    ]
