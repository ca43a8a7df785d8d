"""Every Kafka topic the platform reads or writes.

Inbound topic names are the contracts of interfaces.md. Internal topics carry the major version of
their event schema in the name (`vip.<what>.v1`) and are keyed by customer id, so one customer's
events stay in order on one partition.
"""

POLICY_EVENTS = "pas.policy-events"
AGENT_EVENTS = "hr.agent-events"
CUSTOMER_EVENTS = "crm.customer-events"

CUSTOMER_SCORES = "vip.customer-scores.v1"
TIER_DECISIONS = "vip.tier-decisions.v1"
REPRESENTATIVES = "vip.representatives.v1"

GROUP_CLIENTS = "vip.group-clients.v1"
GROUP_LEVELS = "vip.group-levels.v1"
ACCOUNT_MANAGERS = "vip.account-managers.v1"
GROUP_FEEDBACK = "vip.group-feedback.v1"

INBOUND_TOPICS = (POLICY_EVENTS, AGENT_EVENTS, CUSTOMER_EVENTS)
INTERNAL_TOPICS = (
    CUSTOMER_SCORES, TIER_DECISIONS, REPRESENTATIVES, GROUP_CLIENTS, GROUP_LEVELS, ACCOUNT_MANAGERS, GROUP_FEEDBACK,
)

DLQ_SUFFIX = ".dlq"


def dead_letter_topic_for(topic: str) -> str:
    return f"{topic}{DLQ_SUFFIX}"


def all_topics() -> tuple[str, ...]:
    """Data topics and their dead-letter topics: what a broker needs before the platform starts."""
    data = INBOUND_TOPICS + INTERNAL_TOPICS
    return data + tuple(dead_letter_topic_for(topic) for topic in data)
