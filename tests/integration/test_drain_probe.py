"""The drain's measurement against the real broker and PostgreSQL: a group's lag and an outbox's rows."""

from aiokafka import AIOKafkaConsumer, TopicPartition
from sqlalchemy import MetaData
from sqlalchemy.ext.asyncio import create_async_engine

from cli.stopping import BacklogProbe
from shared.kafka import ensure_topics
from shared.messaging_tables import add_messaging_tables
from tests.support import publish


async def test_the_probe_counts_what_a_group_has_not_committed_and_what_an_outbox_holds(
    bootstrap_servers: str, database_url: str
) -> None:
    await ensure_topics(bootstrap_servers=bootstrap_servers, topics=["in.a", "in.b"], partitions=2)
    engine = create_async_engine(database_url)
    metadata = MetaData()
    _inbox, outbox = add_messaging_tables(metadata)
    async with engine.begin() as connection:
        await connection.run_sync(metadata.create_all)
        await connection.execute(outbox.insert(), [
            {"topic": "out", "key": "k", "event_id": f"e{i}", "payload": b"{}", "event_type": "x",
             "correlation_id": "c"}
            for i in range(3)
        ])
    await engine.dispose()
    await publish(bootstrap_servers, "in.a", [(f"k{i}", {"n": i}) for i in range(5)])
    await publish(bootstrap_servers, "in.b", [("k", {"n": 0})])

    probe = BacklogProbe(
        bootstrap_servers=bootstrap_servers, consumed={"svc": ["in.a", "in.b"]}, groups={"svc": "g-svc"},
        database_urls={"svc": database_url},
    )
    await probe.start()
    try:
        before = await probe.measure()
        committer = AIOKafkaConsumer(bootstrap_servers=bootstrap_servers, group_id="g-svc", enable_auto_commit=False)
        await committer.start()
        try:
            committer.assign([TopicPartition("in.a", p) for p in range(2)])
            await committer.seek_to_beginning()
            consumed = 0
            while consumed < 5:  # the group consumes all of in.a and commits where it is
                consumed += sum(len(records) for records in (await committer.getmany(timeout_ms=200)).values())
            await committer.commit()
        finally:
            await committer.stop()
        after = await probe.measure()
    finally:
        await probe.close()

    assert before.behind == {"svc": 6} and before.outbox_rows == {"svc": 3} and before.total == 9
    assert after.behind == {"svc": 1}  # in.a committed to its end; in.b's one event never consumed

