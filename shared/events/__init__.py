"""Event contracts: the inbound topics of interfaces.md and the platform's internal events."""

from pydantic import BaseModel

from shared.events.inbound import (
    AgentDeparted,
    AgentDisqualified,
    AgentUpserted,
    CustomerContacted,
    CustomerUpserted,
    LegacyVipImported,
    PolicyChanged,
    PolicyState,
)
from shared.events.internal import (
    CustomerScored,
    InternalEvent,
    PolicyContribution,
    Representative,
    RepresentativeChanged,
    TierDecided,
)

Event = BaseModel
"""Any event model, inbound or internal; every one has `event_id` and `event_type`."""

__all__ = [
    "AgentDeparted",
    "AgentDisqualified",
    "AgentUpserted",
    "CustomerContacted",
    "CustomerScored",
    "CustomerUpserted",
    "Event",
    "InternalEvent",
    "LegacyVipImported",
    "PolicyChanged",
    "PolicyContribution",
    "PolicyState",
    "Representative",
    "RepresentativeChanged",
    "TierDecided",
]
