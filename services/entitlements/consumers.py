"""What entitlements reads: tier decisions from tiering and representatives from assignment; for the
group program, level decisions (tiering) and account managers (assignment). It publishes the group
clients' feedback (complaints, surveys) to tiering."""

from services.entitlements import handlers
from services.entitlements.repositories import EntitlementsUnitOfWork
from shared.events.group import ACCOUNT_MANAGER_CHANGED_ADAPTER, GROUP_LEVEL_DECIDED_ADAPTER
from shared.events.internal import REPRESENTATIVE_CHANGED_ADAPTER, TIER_DECIDED_ADAPTER
from shared.processing import Route
from shared.topics import ACCOUNT_MANAGERS, GROUP_FEEDBACK, GROUP_LEVELS, REPRESENTATIVES, TIER_DECISIONS

PUBLISHES_TO: tuple[str, ...] = (GROUP_FEEDBACK,)


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
        Route(
            topic=GROUP_LEVELS,
            adapter=GROUP_LEVEL_DECIDED_ADAPTER,
            handlers={"group_level_decided": handlers.on_group_level_decided},
        ),
        Route(
            topic=ACCOUNT_MANAGERS,
            adapter=ACCOUNT_MANAGER_CHANGED_ADAPTER,
            handlers={"account_manager_changed": handlers.on_account_manager_changed},
        ),
    ]
