"""`vip up`'s drain on Ctrl-C: the progress line, when it ends, and what it says it drops."""

import asyncio
from collections.abc import Awaitable, Callable

import pytest
from aiokafka.errors import KafkaConnectionError

from cli.stopping import Backlog, consumed_topics, consumer_groups, drain
from shared.topics import (
    AGENT_EVENTS,
    CUSTOMER_EVENTS,
    CUSTOMER_SCORES,
    GROUP_CLIENTS,
    GROUP_FEEDBACK,
    POLICY_EVENTS,
    REPRESENTATIVES,
    TIER_DECISIONS,
)


def backlog(scoring: int = 0, tiering: int = 0, outbox: int = 0) -> Backlog:
    return Backlog(
        behind={"scoring": scoring, "tiering": tiering, "assignment": 0, "entitlements": 0},
        outbox_rows={"scoring": outbox, "tiering": 0, "assignment": 0, "entitlements": 0},
    )


def measurements(*backlogs: Backlog) -> Callable[[], Awaitable[Backlog]]:
    """Each call answers the next backlog; the last one from then on."""
    remaining = list(backlogs)

    async def measure() -> Backlog:
        return remaining.pop(0) if len(remaining) > 1 else remaining[0]

    return measure


async def run_drain(measure: Callable[[], Awaitable[Backlog]], *, timeout_s: float = 5.0,
                    forced: asyncio.Event | None = None) -> tuple[Backlog | None, list[str]]:
    lines: list[str] = []
    last = await drain(measure=measure, timeout_s=timeout_s, forced=forced or asyncio.Event(),
                       report=lines.append, interval_s=0.01)
    return last, lines


def test_the_progress_line_names_each_service_and_the_outboxes() -> None:
    assert backlog(tiering=120, outbox=35).progress_line() == (
        "draining: scoring 0 behind, tiering 120 behind, assignment 0 behind, entitlements 0 behind, outboxes 35 rows"
    )
    assert backlog(tiering=120, outbox=35).total == 155


async def test_the_drain_waits_until_the_backlog_is_gone_printing_progress() -> None:
    last, lines = await run_drain(measurements(backlog(scoring=3), backlog(tiering=2, outbox=1), backlog()))
    assert last == backlog()
    assert lines[:2] == [backlog(scoring=3).progress_line(), backlog(tiering=2, outbox=1).progress_line()]
    assert lines[-1] == "drained: every event consumed and every outbox empty"


async def test_one_empty_measurement_is_not_enough_an_event_may_be_between_an_outbox_and_a_topic() -> None:
    """Empty, then an event shows up on the next topic: the drain goes on."""
    _last, lines = await run_drain(measurements(backlog(), backlog(tiering=1), backlog(), backlog()))
    assert backlog(tiering=1).progress_line() in lines
    assert lines[-1].startswith("drained")


async def test_the_drain_gives_up_after_its_timeout_and_says_what_is_lost() -> None:
    last, lines = await run_drain(measurements(backlog(tiering=120, outbox=35)), timeout_s=0.05)
    assert last is not None and last.total == 155
    assert lines[-1] == "drain timed out after 0.05 s: 155 events not yet consumed are lost with the memory-only broker"


async def test_a_second_signal_stops_at_once_and_says_what_it_drops() -> None:
    forced = asyncio.Event()
    calls = 0

    async def measure() -> Backlog:
        nonlocal calls
        calls += 1
        if calls == 2:
            forced.set()  # the second Ctrl-C arrives while measuring
            await asyncio.sleep(10)
        return backlog(tiering=120, outbox=35)

    last, lines = await asyncio.wait_for(run_drain(measure, timeout_s=60, forced=forced), timeout=2)
    assert last is not None and last.total == 155
    assert lines[-1] == "stopping now: 155 events not yet consumed are lost with the memory-only broker"


async def test_a_broker_that_does_not_answer_is_reported_and_the_drain_still_ends() -> None:
    async def measure() -> Backlog:
        raise KafkaConnectionError("no broker")

    last, lines = await run_drain(measure, timeout_s=0.05)
    assert last is None
    assert any("cannot measure the backlog" in line for line in lines)
    assert lines[-1].startswith("drain timed out after 0.05 s: events not yet consumed, if any, are lost")


def test_the_drain_reads_each_services_own_routes() -> None:
    consumed = consumed_topics()
    assert consumed["scoring"] == [POLICY_EVENTS, CUSTOMER_EVENTS]  # the group program's clients come from the CRM
    assert set(consumed["tiering"]) >= {CUSTOMER_SCORES, GROUP_CLIENTS, GROUP_FEEDBACK}
    assert set(consumed["assignment"]) >= {AGENT_EVENTS, TIER_DECISIONS}
    assert set(consumed["entitlements"]) >= {TIER_DECISIONS, REPRESENTATIVES}


@pytest.mark.parametrize(
    ("environ", "expected"),
    [({}, "vip-tiering"), ({"VIP_CONSUMER_GROUP_PREFIX": "blue"}, "blue-tiering")],
)
def test_the_groups_measured_are_the_ones_the_services_join(environ: dict[str, str], expected: str) -> None:
    assert consumer_groups(environ)["tiering"] == expected
