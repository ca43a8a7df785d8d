"""The scoring database: the latest state of every policy and each customer's current score."""

from sqlalchemy import Column, Date, DateTime, Integer, MetaData, Numeric, String, Table, func
from sqlalchemy.dialects.postgresql import JSONB

metadata = MetaData()

policies = Table(
    "policies",
    metadata,
    Column("policy_no", String(64), primary_key=True),
    Column("holder_id", String(64), nullable=False, index=True),
    Column("version", Integer, nullable=False),
    Column("state", JSONB, nullable=False, comment="PolicyState as the last applied event carried it"),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
)

customers = Table(
    "customers",
    metadata,
    Column("customer_id", String(64), primary_key=True),
    Column("revision", Integer, nullable=False, comment="rises with every CustomerScored published"),
    Column("points", Numeric(18, 2), nullable=False),
    Column("standard_premium", Numeric(18, 2), nullable=False),
    Column("pending_points", Numeric(18, 2), nullable=False),
    Column("serving_channel", String(32)),
    Column("next_pending_date", Date, index=True, comment="when the daily run must look again"),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
)
