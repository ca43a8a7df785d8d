"""`vip dlq list / show / replay`: the messages a service could not apply, from its own database.

Each service keeps its dead letters durably (`dead_letters`: original bytes, key and headers, the
reason, the source topic, partition and offset) and serves them on `/v1/ops/dead-letters`
(`cli/dead_letters.py`); the token is the one `vip daily-run` uses. A replay goes through the
service, which sends the letter back to its **original partition** (not by key: a producer such as
librdkafka hashes keys differently) with its original headers, and marks it. What still fails is
parked again with its new reason; what was already applied is recognised by the inboxes and skipped.
"""

import os
from collections import Counter
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar

import click
import httpx

from cli.daily_run import resolve_token
from cli.dead_letters import DeadLetterApi, Letter, letter_line, newest_first, parse_since, select_for_replay
from cli.layout import DEFAULT_DATA_DIR, DEFAULT_HTTP_PORT_BASE, SERVICES, SERVICES_BY_NAME, service_base_url
from shared.topics import DLQ_SUFFIX

TIMEOUT = httpx.Timeout(connect=5.0, read=60.0, write=30.0, pool=5.0)
SERVICE_NAMES = [service.name for service in SERVICES]


F = TypeVar("F", bound=Callable[..., Any])


def _options(command: F) -> F:
    """The options every listing command shares: which services, the token, where they listen."""
    for option in reversed([
        click.option("--service", "services", multiple=True, type=click.Choice(SERVICE_NAMES),
                     help="Only this service (repeatable); default: all four."),
        click.option("--token", help="API bearer token with role ops (default: env VIP_TOKEN, else the dev token)."),
        click.option("--http-port-base", type=int, default=DEFAULT_HTTP_PORT_BASE, show_default=True,
                     help="Scoring's port; the others follow. Env VIP_SCORING_URL etc. override per service."),
        click.option("--data-dir", type=click.Path(file_okay=False, path_type=Path), default=DEFAULT_DATA_DIR,
                     envvar="VIP_DATA_DIR", show_default=True, help="Where `vip up` keeps tokens.env."),
    ]):
        command = option(command)
    return command


def _api(*, client: httpx.Client, services: tuple[str, ...], token: str | None, http_port_base: int,
         data_dir: Path) -> DeadLetterApi:
    bearer = resolve_token(token=token, environ=os.environ, data_dir=data_dir)
    urls = {name: service_base_url(service=SERVICES_BY_NAME[name], http_port_base=http_port_base)
            for name in (services or SERVICE_NAMES)}
    return DeadLetterApi(client=client, urls=urls, token=bearer)


def _since(raw: str | None) -> datetime | None:
    try:
        return parse_since(raw) if raw else None
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--since") from exc


def _source_topic(topic: str | None) -> str | None:
    if topic is not None and topic.endswith(DLQ_SUFFIX):
        raise click.BadParameter(f"name the source topic, not {topic}", param_hint="--topic")
    return topic


@click.group("dlq")
def dlq_command() -> None:
    """Dead letters: messages a service could not apply, kept in its database with the reason."""


@dlq_command.command("list")
@click.option("--topic", help="Only letters from this source topic, e.g. pas.policy-events.")
@click.option("--since", "since_text", help="Only letters parked at or after this date or ISO date-time (UTC).")
@click.option("--limit", type=click.IntRange(min=1, max=10_000), default=50, show_default=True,
              help="The newest this many letters.")
@_options
def list_command(*, topic: str | None, since_text: str | None, limit: int, services: tuple[str, ...],
                 token: str | None, http_port_base: int, data_dir: Path) -> None:
    """The newest dead letters of every service: when, where from (topic[partition]@offset), why."""
    source_topic, since = _source_topic(topic), _since(since_text)
    with httpx.Client(timeout=TIMEOUT) as client:
        api = _api(client=client, services=services, token=token, http_port_base=http_port_base, data_dir=data_dir)
        letters = [letter for service in api.services
                   for letter in api.newest(service, source_topic=source_topic, since=since, limit=limit)]
    shown = newest_first(letters, limit=limit)
    for letter in shown:
        click.echo(letter_line(letter))
    click.echo(f"{len(shown)} dead letter(s)" + (" (newest shown; raise --limit for more)" if len(letters) > limit
                                                  else ""))


@dlq_command.command("show")
@click.argument("service", type=click.Choice(SERVICE_NAMES))
@click.argument("letter_id", type=click.IntRange(min=1))
@click.option("--token", help="API bearer token with role ops (default: env VIP_TOKEN, else the dev token).")
@click.option("--http-port-base", type=int, default=DEFAULT_HTTP_PORT_BASE, show_default=True)
@click.option("--data-dir", type=click.Path(file_okay=False, path_type=Path), default=DEFAULT_DATA_DIR,
              envvar="VIP_DATA_DIR", show_default=True)
def show_command(*, service: str, letter_id: int, token: str | None, http_port_base: int, data_dir: Path) -> None:
    """One dead letter of SERVICE: where it came from, why, its original headers and value."""
    with httpx.Client(timeout=TIMEOUT) as client:
        api = _api(client=client, services=(service,), token=token, http_port_base=http_port_base, data_dir=data_dir)
        body = api.show(service, letter_id)
    for name in ("id", "stage", "source_topic", "source_partition", "source_offset", "failed_at", "reason",
                 "replays", "last_replayed_at", "key", "size"):
        click.echo(f"{name + ':':<18} {body.get(name)}")
    click.echo("headers:")
    for name, value in body.get("headers", []):
        click.echo(f"  {name}: {value}")
    click.echo(f"value ({body.get('value_encoding')}):")
    click.echo(body.get("value", ""))


@dlq_command.command("replay")
@click.argument("letter", required=False, metavar="[SERVICE:ID]")
@click.option("--topic", help="Replay the letters from this source topic, e.g. pas.policy-events.")
@click.option("--since", "since_text", help="Only letters parked at or after this date or ISO date-time (UTC).")
@click.option("--limit", type=click.IntRange(min=1), help="At most this many letters, oldest first.")
@click.option("--dry-run", is_flag=True, help="List what would be replayed; send nothing.")
@_options
def replay_command(*, letter: str | None, topic: str | None, since_text: str | None, limit: int | None,
                   dry_run: bool, services: tuple[str, ...], token: str | None, http_port_base: int,
                   data_dir: Path) -> None:
    """Send dead letters back to their source topic and ORIGINAL partition, headers kept, once fixed.

    Either one letter (`vip dlq replay scoring:17`) or a filtered set (`--topic`, `--since`,
    `--limit`), oldest first so one key's messages go back in the order they failed.
    """
    source_topic, since = _source_topic(topic), _since(since_text)
    if (letter is None) == (source_topic is None):
        raise click.UsageError("name one letter (SERVICE:ID) or a source topic (--topic), not both")
    with httpx.Client(timeout=TIMEOUT) as client:
        if letter is not None:
            service, _, raw_id = letter.partition(":")
            if service not in SERVICE_NAMES or not raw_id.isdigit():
                raise click.BadParameter(f"expected SERVICE:ID, e.g. scoring:17, not {letter}", param_hint="LETTER")
            api = _api(client=client, services=(service,), token=token, http_port_base=http_port_base,
                       data_dir=data_dir)
            chosen, skipped = select_for_replay([Letter.of(service, api.show(service, int(raw_id)))], limit=None)
            source_topic = (chosen or skipped)[0].source_topic
        else:
            api = _api(client=client, services=services, token=token, http_port_base=http_port_base,
                       data_dir=data_dir)
            found = [found for service in api.services
                     for found in api.newest(service, source_topic=source_topic, since=since)]
            chosen, skipped = select_for_replay(found, limit=limit)
        click.echo(f"{len(chosen)} dead letter(s) of {source_topic} chosen for replay")
        for reason, count in Counter(chosen_letter.reason for chosen_letter in chosen).most_common(10):
            click.echo(f"  {count:>6}  {reason[:160]}")
        if skipped:
            click.echo(f"{len(skipped)} letter(s) the broker refused for good are not replayable: "
                       + ", ".join(f"{item.service}:{item.id}" for item in skipped[:20]))
        if not dry_run:
            for chosen_letter in chosen:
                replayed = api.replay(chosen_letter)
                click.echo(f"  {chosen_letter.service}:{chosen_letter.id} -> {replayed['topic']}"
                           f"[{replayed['partition']}] (replay #{replayed['replays']})")
    verb = "would replay" if dry_run else "replayed"
    click.echo(f"{verb} {len(chosen)} message(s) to {source_topic}")
