"""The inbox and outbox tables every service database carries.

The inbox key is (topic, event_id): a claimed row means the event's effects are committed, so a
redelivered event is skipped. The outbox holds events committed but not yet acknowledged by the
broker; the relay deletes a row once the broker has it (the topic is then the record).
"""

from sqlalchemy import (
    BigInteger,
    Column,
    DateTime,
    Identity,
    Index,
    LargeBinary,
    MetaData,
    String,
    Table,
    func,
)


def add_messaging_tables(metadata: MetaData) -> tuple[Table, Table]:
    inbox = Table(
        "inbox",
        metadata,
        Column("topic", String(249), primary_key=True),
        Column("event_id", String(64), primary_key=True),
        Column("processed_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    )
    outbox = Table(
        "outbox",
        metadata,
        Column("id", BigInteger, Identity(always=True), primary_key=True),
        Column("topic", String(249), nullable=False),
        Column("key", String(128), nullable=False),
        Column("event_id", String(64), nullable=False),
        Column("event_type", String(64), nullable=False),
        Column("correlation_id", String(64), nullable=False),
        Column("payload", LargeBinary, nullable=False),
        Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    )
    Index("outbox_created_at", outbox.c.created_at)
    return inbox, outbox


_metadata = MetaData()
INBOX, OUTBOX = add_messaging_tables(_metadata)
"""Table objects for the shared code's statements; each service's own MetaData gets equal copies."""
