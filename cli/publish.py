"""`vip publish`: send a JSON-lines file of inbound events to their topics, each line's bytes unchanged.

Routing follows interfaces.md: the `event_type` picks the inbound topic and the contract's key (the
policy number, the agent id, the customer id), so one policy's events stay in order on one partition.
This is a client of the contract; the event types are listed here rather than imported from a
service so that the tool keeps working against any deployment of the platform.
"""

import asyncio
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import click
import orjson

from cli.layout import DEFAULT_BOOTSTRAP_SERVERS
from shared.topics import AGENT_EVENTS, CUSTOMER_EVENTS, POLICY_EVENTS

POLICY_EVENT_TYPES = frozenset(
    {
        "new_business", "additional_premium", "sum_insured_increase", "policyholder_change",
        "supplementary_disclosure", "premium_loading", "reinstatement", "surrender", "partial_surrender",
        "lapse", "maturity", "annuity_payout", "survival_benefit_paid", "dividend_paid", "premium_waiver",
        "reduced_paid_up", "cooling_off_cancellation", "policy_loan", "loan_repaid", "termination",
        "beneficiary_change", "account_value_update", "policy_reconciled",
    }
)  # fmt: skip
AGENT_EVENT_TYPES = frozenset({"agent_upserted", "agent_departed", "agent_disqualified", "customer_contacted"})
CUSTOMER_EVENT_TYPES = frozenset({"customer_upserted", "legacy_vip_imported"})
GROUP_CLIENT_EVENT_TYPES = frozenset({"group_client_upserted", "group_experience_reported"})
"""Also on `crm.customer-events`, keyed by the client id (`client_id`, or `client.client_id`)."""

SEND_CHUNK = 5_000
"""Sends in flight before we wait for their acknowledgements: bounds memory on long files."""
PROGRESS_EVERY_S = 2.0


class RoutingError(ValueError):
    """A line that cannot be routed: not JSON, not an object, unknown event type or no key."""


@dataclass(frozen=True)
class Route:
    topic: str
    key: bytes | None


def _key(event: dict[str, Any], *, field: str, nested_in: str) -> bytes:
    value = event.get(field)
    if value is None and isinstance(event.get(nested_in), dict):
        value = event[nested_in].get(field)
    if not isinstance(value, str) or not value:
        raise RoutingError(f"{event['event_type']} without {field} (at top level or in {nested_in})")
    return value.encode()


def route(line: bytes) -> Route:
    """The inbound topic and Kafka key of one event, by the contract of interfaces.md."""
    try:
        event = orjson.loads(line)
    except orjson.JSONDecodeError as exc:
        raise RoutingError(f"not JSON: {exc}") from exc
    if not isinstance(event, dict):
        raise RoutingError("not a JSON object")
    event_type = event.get("event_type")
    if not isinstance(event_type, str):
        raise RoutingError("no event_type")
    if event_type in POLICY_EVENT_TYPES:
        policy = event.get("policy")
        policy_no = policy.get("policy_no") if isinstance(policy, dict) else None
        if not isinstance(policy_no, str) or not policy_no:
            raise RoutingError(f"{event_type} without policy.policy_no")
        return Route(topic=POLICY_EVENTS, key=policy_no.encode())
    if event_type in AGENT_EVENT_TYPES:
        return Route(topic=AGENT_EVENTS, key=_key(event, field="agent_id", nested_in="agent"))
    if event_type in CUSTOMER_EVENT_TYPES:
        return Route(topic=CUSTOMER_EVENTS, key=_key(event, field="customer_id", nested_in="customer"))
    if event_type in GROUP_CLIENT_EVENT_TYPES:
        return Route(topic=CUSTOMER_EVENTS, key=_key(event, field="client_id", nested_in="client"))
    raise RoutingError(f"unknown event_type {event_type!r}")


def read_lines(path: Path) -> Iterator[tuple[int, bytes]]:
    """(line number, bytes without the line ending); blank lines are skipped but still numbered."""
    with path.open("rb") as handle:
        for number, raw in enumerate(handle, start=1):
            line = raw.rstrip(b"\r\n")
            if line.strip():
                yield number, line


def find_unroutable(path: Path) -> list[tuple[int, str]]:
    problems = []
    for number, line in read_lines(path):
        try:
            route(line)
        except RoutingError as exc:
            problems.append((number, str(exc)))
    return problems


async def send_file(
    *, path: Path, bootstrap_servers: str, topic: str | None, report: Callable[[str], None]
) -> Counter[str]:
    """Send every routable line (every line, raw and unkeyed, when `topic` is given); sent per topic."""
    from aiokafka import AIOKafkaProducer

    producer = AIOKafkaProducer(
        bootstrap_servers=bootstrap_servers,
        client_id="vip-publish",
        acks="all",
        linger_ms=5,
        max_batch_size=262_144,
    )
    sent: Counter[str] = Counter()
    try:
        await producer.start()
        pending: list[asyncio.Future[Any]] = []
        pending_topics: list[str] = []
        last_progress = time.monotonic()
        for _number, line in read_lines(path):
            if topic is not None:
                target = Route(topic=topic, key=None)
            else:
                try:
                    target = route(line)
                except RoutingError:
                    continue  # reported by the caller's first pass, and skipped on request
            pending.append(await producer.send(target.topic, line, key=target.key))
            pending_topics.append(target.topic)
            if len(pending) >= SEND_CHUNK:
                await asyncio.gather(*pending)
                sent.update(pending_topics)
                pending, pending_topics = [], []
                if time.monotonic() - last_progress >= PROGRESS_EVERY_S:
                    report(f"... {sum(sent.values())} sent")
                    last_progress = time.monotonic()
        await asyncio.gather(*pending)
        sent.update(pending_topics)
    finally:
        await producer.stop()
    return sent


@click.command("publish")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--bootstrap-servers",
    envvar="VIP_KAFKA_BOOTSTRAP_SERVERS",
    default=DEFAULT_BOOTSTRAP_SERVERS,
    show_default=True,
    help="Kafka bootstrap servers (env VIP_KAFKA_BOOTSTRAP_SERVERS).",
)
@click.option("--topic", help="Send every line as is, unkeyed, to this topic: for garbage and replay tests.")
@click.option("--skip-invalid", is_flag=True, help="Send the routable lines even if some lines are not.")
def publish_command(file: Path, bootstrap_servers: str, topic: str | None, skip_invalid: bool) -> None:
    """Publish FILE, one inbound event per line, to the platform's inbound topics.

    Each line goes unchanged to the topic of its event_type: policy events to pas.policy-events keyed
    by policy.policy_no, agent events to hr.agent-events keyed by agent_id, customer events to
    crm.customer-events keyed by customer_id. Blank lines are skipped.

    The file is checked before anything is sent. If a line is not JSON, has an unknown event_type or
    lacks its key, every such line is listed with its line number, nothing is sent, and the exit
    status is 1: fix the file and run again. With --skip-invalid the other lines are sent and the
    listed ones skipped (exit status 0). With --topic nothing is checked: every line goes raw to that
    topic, which is how to feed the platform garbage on purpose, e.g.

        vip publish examples/garbage.jsonl --topic pas.policy-events
    """
    if topic is None:
        problems = find_unroutable(file)
        for number, reason in problems[:50]:
            click.echo(f"{file}:{number}: {reason}", err=True)
        if len(problems) > 50:
            click.echo(f"... and {len(problems) - 50} more", err=True)
        if problems and not skip_invalid:
            click.echo(f"{len(problems)} line(s) cannot be routed; nothing sent (see --help).", err=True)
            sys.exit(1)
        if problems:
            click.echo(f"skipping {len(problems)} line(s) that cannot be routed", err=True)
    from aiokafka.errors import KafkaError

    started = time.monotonic()
    try:
        sent = asyncio.run(
            send_file(
                path=file,
                bootstrap_servers=bootstrap_servers,
                topic=topic,
                report=lambda text: click.echo(text, err=True),
            )
        )
    except KafkaError as exc:
        raise click.ClickException(f"publishing to {bootstrap_servers} failed: {exc!r}") from exc
    elapsed = time.monotonic() - started
    total = sum(sent.values())
    click.echo(f"sent {total} event(s) in {elapsed:.1f} s to {bootstrap_servers}")
    for name, count in sorted(sent.items()):
        click.echo(f"  {name}: {count}")
