"""The assignment database: service persons, VIP customers with their representative, contacts, and
the history of every representative change."""

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Date,
    DateTime,
    Identity,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB

metadata = MetaData()

ASSIGNABLE = text("profile_at IS NOT NULL AND eligible AND departed_at IS NULL AND disqualified_at IS NULL")
"""Active and eligible, as `domain.Agent.assignable`: the rows the pool indexes cover."""

agents = Table(
    "agents",
    metadata,
    Column("agent_id", String(64), primary_key=True),
    Column("name", String(200), comment="null until the first agent_upserted arrives"),
    Column("channel", String(32)),
    Column("branch", String(64)),
    Column("role", String(32)),
    Column("top_performer", Boolean, nullable=False, server_default="false"),
    Column("eligible", Boolean, nullable=False, server_default="false"),
    Column("profile_at", DateTime(timezone=True), comment="occurred_at of the profile applied; null: none yet"),
    Column("departed_on", Date),
    Column("departed_at", DateTime(timezone=True)),
    Column("departs_on", Date, comment="a departure announced ahead, acting in that date's daily run; null: none"),
    Column("disqualified_at", DateTime(timezone=True)),
    Column("disqualification_reason", Text),
    Column("load", Integer, nullable=False, server_default="0", comment="VIP customers represented now"),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
)
Index("ix_agents_assignable_by_load", agents.c.channel, agents.c.load, agents.c.agent_id, postgresql_where=ASSIGNABLE)
Index(
    "ix_agents_assignable_by_branch_load",
    agents.c.channel,
    agents.c.branch,
    agents.c.load,
    agents.c.agent_id,
    postgresql_where=ASSIGNABLE,
)
PENDING_DEPARTURE = text("departs_on IS NOT NULL")
Index("ix_agents_pending_departure", agents.c.departs_on, agents.c.agent_id, postgresql_where=PENDING_DEPARTURE)

customers = Table(
    "customers",
    metadata,
    Column("customer_id", String(64), primary_key=True),
    Column("tier_revision", Integer, nullable=False, comment="revision of the last TierDecided applied"),
    Column("tier", String(16), comment="effective tier; null: not VIP"),
    Column("serving_channel", String(32)),
    Column("branch", String(64), comment="the customer's branch: the pools take its people first"),
    Column("policies", JSONB, nullable=False, comment="PolicyShare list from the last TierDecided"),
    Column("service_person_ids", ARRAY(String(64)), nullable=False, comment="agents on counting policies"),
    Column("representative_id", String(64)),
    Column("basis", String(32), comment="domain.Basis of the current choice"),
    Column("reason", Text),
    Column("decided_at", DateTime(timezone=True), comment="the moment the current choice was taken as of"),
    Column("since", Date, comment="effective date of the current representative"),
    Column("revisable_by", ARRAY(String(64)), nullable=False, server_default="{}"),
    Column("top_performers_first", Boolean, nullable=False, server_default="false"),
    Column("unassigned_since", Date, comment="VIP without a representative since"),
    Column("unassigned_reason", Text),
    Column("revision", Integer, nullable=False, server_default="0", comment="of RepresentativeChanged"),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
)
Index("ix_customers_representative_id", customers.c.representative_id)
Index(
    "ix_customers_unassigned",
    customers.c.serving_channel,
    customers.c.customer_id,
    postgresql_where=text("tier IS NOT NULL AND representative_id IS NULL"),
)
Index("ix_customers_revisable_by", customers.c.revisable_by, postgresql_using="gin")
Index("ix_customers_service_person_ids", customers.c.service_person_ids, postgresql_using="gin")

contacts = Table(
    "contacts",
    metadata,
    Column("customer_id", String(64), primary_key=True),
    Column("agent_id", String(64), primary_key=True),
    Column("contacted_at", DateTime(timezone=True), primary_key=True),
)

representative_history = Table(
    "representative_history",
    metadata,
    Column("id", BigInteger, Identity(always=True), primary_key=True),
    Column("customer_id", String(64), nullable=False),
    Column("revision", Integer, comment="RepresentativeChanged revision; null: recorded, not published"),
    Column("agent_id", String(64), comment="null: no representative"),
    Column("agent_name", String(200)),
    Column("agent_channel", String(32)),
    Column("basis", String(32)),
    Column("reason", Text, nullable=False),
    Column("effective_at", Date, nullable=False),
    Column("decided_at", DateTime(timezone=True), nullable=False),
    Column("cause_event_id", String(64), nullable=False),
    Column("cause_event_type", String(64), nullable=False),
    Column("recorded_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
)
Index("ix_representative_history_customer", representative_history.c.customer_id, representative_history.c.id)

group_clients = Table(
    "group_clients",
    metadata,
    Column("client_id", String(64), primary_key=True),
    Column("level_revision", Integer, nullable=False, comment="revision of the last GroupLevelDecided applied"),
    Column("level", String(32), comment="effective level; null: a regular client, not VIP"),
    Column("branch", String(64)),
    Column("manager_id", String(64), comment="the account service manager; null: none"),
    Column("manager_name", String(200)),
    Column("manager_branch", String(64)),
    Column("since", Date, comment="effective date of the current manager"),
    Column("reason", Text, nullable=False, server_default=""),
    Column("unassigned_since", Date, comment="VIP without a manager since"),
    Column("revision", Integer, nullable=False, server_default="0", comment="of AccountManagerChanged"),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
)
Index("ix_group_clients_manager_id", group_clients.c.manager_id)
Index(
    "ix_group_clients_unassigned", group_clients.c.client_id,
    postgresql_where=text("level IS NOT NULL AND manager_id IS NULL"),
)

# --- the representative's duties (rules.md section 7; domain/duties.py) ---------------------------

PENDING_ITEM = text("state IN ('open', 'overdue')")
"""Items still to be done: the work list's and the representative move's partial index."""

customer_profiles = Table(
    "customer_profiles",
    metadata,
    Column("customer_id", String(64), primary_key=True),
    Column("name", String(200), nullable=False),
    Column("birthday", Date),
    Column("branch", String(64), nullable=False),
    Column("profile_at", DateTime(timezone=True), nullable=False, comment="occurred_at of the CRM event applied"),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
)
Index("ix_customer_profiles_branch", customer_profiles.c.branch)

work_items = Table(
    "work_items",
    metadata,
    Column("item_id", BigInteger, Identity(always=True), primary_key=True),
    Column("customer_id", String(64), nullable=False),
    Column("duty", String(32), nullable=False),
    Column("occasion", Text, nullable=False, comment='"Mid-Autumn 2027", "policy P1 delivered", "claim CLM-1"'),
    Column("occasion_key", String(200), nullable=False, comment="unique per customer: generating twice adds nothing"),
    Column("year", Integer, nullable=False, comment="the due date's year: the compliance year"),
    Column("opens_on", Date, nullable=False),
    Column("due_on", Date, nullable=False),
    Column("channels", ARRAY(String(16)), nullable=False),
    Column("agent_id", String(64), comment="the representative holding it; null: none yet"),
    Column("state", String(16), nullable=False, server_default="open"),
    Column("campaign_id", BigInteger),
    Column("done_on", Date),
    Column("done_channel", String(16)),
    Column("done_by_agent", String(64)),
    Column("done_by_user", String(64)),
    Column("note", Text),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
)
Index("ux_work_items_occasion", work_items.c.customer_id, work_items.c.occasion_key, unique=True)
Index(
    "ix_work_items_work_list", work_items.c.agent_id, work_items.c.due_on, work_items.c.item_id,
    postgresql_where=PENDING_ITEM,
)
Index("ix_work_items_falling_due", work_items.c.due_on, postgresql_where=text("state = 'open'"))
Index("ix_work_items_year", work_items.c.year, postgresql_using="brin")
"""The ops figures read a whole year (`duty_figures`): a BRIN range of a few pages, since items are
written in year order (each year's holiday items at its start). It replaced a B-tree on (year, agent):
the figures group by the holder (`coalesce(done_by_agent, agent_id)`), so the agent column served no
query, and the B-tree was the most expensive index to keep while a year's items were generated."""

campaigns = Table(
    "campaigns",
    metadata,
    Column("campaign_id", BigInteger, Identity(always=True), primary_key=True),
    Column("duty", String(32), nullable=False),
    Column("title", Text, nullable=False),
    Column("starts_on", Date, nullable=False),
    Column("due_on", Date, nullable=False),
    Column("channel", String(32), comment="scope: VIPs of this serving channel; null with branch null: all"),
    Column("branch", String(64), comment="scope: VIPs of this branch (the customer's, else the CRM profile's)"),
    Column("items", Integer, nullable=False, server_default="0"),
    Column("created_by", String(64), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
)

holiday_years = Table(
    "holiday_years",
    metadata,
    Column("year", Integer, primary_key=True),
    Column("generated_on", Date, nullable=False, comment="the daily run's date that generated the year ahead"),
    Column("items", Integer, nullable=False, comment="items added so far"),
    Column(
        "complete", Boolean, nullable=False, server_default="true",
        comment="false while the year is generated chunk by chunk: a run stopped half-way resumes it",
    ),
)
