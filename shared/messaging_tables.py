"""The inbox and outbox tables every service database carries.

The inbox key is (topic, event_id): a claimed row means the event's effects are committed, so a
redelivered event is skipped. The outbox holds events committed but not yet acknowledged by the
broker; the relay deletes a row once the broker has it (the topic is then the record).
"""

from sqlalchemy import (
    BigInteger,
    Column,
    Date,
    DateTime,
    Identity,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    func,
)
from sqlalchemy.dialects.postgresql import JSONB


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


def add_platform_tables(metadata: MetaData) -> tuple[Table, Table, Table]:
    """The second set every service database carries (migration `platform_v2`).

    `dead_letters`: every message a service could not apply or publish, durable (the embedded broker
    keeps topics in memory only, and a real one expires them): the original bytes and headers, the
    reason, where it came from. Unique per source position and stage, so parking again after a
    crash adds nothing. A letter the relay could not publish has `source_partition` -1 and the
    outbox row's id as `source_offset`.

    `daily_run_log`: who ran each daily run, for which date, when, and what each step changed.

    `audit_log`: who read or changed what over HTTP (`shared.audit`); append-only (a trigger).
    """
    dead_letters = Table(
        "dead_letters",
        metadata,
        Column("id", BigInteger, Identity(always=True), primary_key=True),
        Column("service", String(64), nullable=False),
        Column("stage", String(16), nullable=False),
        Column("source_topic", String(249), nullable=False),
        Column("source_partition", Integer, nullable=False),
        Column("source_offset", BigInteger, nullable=False),
        Column("key", LargeBinary),
        Column("value", LargeBinary),
        Column("headers", JSONB, nullable=False, server_default="[]"),
        Column("reason", Text, nullable=False),
        Column("failed_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
        Column("replays", Integer, nullable=False, server_default="0"),
        Column("last_replayed_at", DateTime(timezone=True)),
        UniqueConstraint("source_topic", "source_partition", "source_offset", "stage", name="dead_letters_source"),
    )
    Index("dead_letters_failed_at", dead_letters.c.failed_at)
    daily_run_log = Table(
        "daily_run_log",
        metadata,
        Column("id", BigInteger, Identity(always=True), primary_key=True),
        Column("as_of", Date, nullable=False),
        Column("run_by", String(64), nullable=False),
        Column("started_at", DateTime(timezone=True), nullable=False),
        Column("finished_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
        Column("changed", JSONB, nullable=False),
    )
    audit_log = Table(
        "audit_log",
        metadata,
        Column("id", BigInteger, Identity(always=True), primary_key=True),
        Column("at", DateTime(timezone=True), nullable=False),
        Column("user_id", String(64), nullable=False),
        Column("method", String(8), nullable=False),
        Column("route", String(200), nullable=False),
        Column("subject_id", String(64)),
        Column("status", Integer, nullable=False),
    )
    Index("audit_log_subject", audit_log.c.subject_id, audit_log.c.at)
    Index("audit_log_user", audit_log.c.user_id, audit_log.c.at)
    return dead_letters, daily_run_log, audit_log


DEAD_LETTERS, DAILY_RUN_LOG, AUDIT_LOG = add_platform_tables(_metadata)
