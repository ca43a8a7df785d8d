"""`vip daily-run`: the day's determination, service by service, in the order the data flows.

Scoring first (policies whose cooling-off has ended start to count), then tiering (tiers from the
new points, honorary expiries), then assignment (departures announced ahead whose date has come),
then entitlements (value-added periods that roll over). A step's effects travel as events (scoring's
re-scores to tiering, tiering's decisions to assignment and entitlements), so before each step, and
after the last, the run waits until the whole pipeline has drained (`cli.drain`: every service's
outbox empty, every consumer caught up), with a progress line while it waits: entitlements then
rolls a period over at the tier the customer holds on the date after that date's cooling-off endings
and expiries, whatever the timing. After each step it prints what moved downstream, and a summary
at the end. The run stops at the first service that fails or refuses (a date after tomorrow in the
insurer's zone, unless the services allow it), printing its `detail`, or when the pipeline does not
drain in time; the command then exits 1, and the same date can simply be run again.
"""

import datetime as dt
import os
from collections.abc import Mapping
from functools import partial
from pathlib import Path
from typing import Any

import click
import httpx

from cli.drain import downstream, read_pipeline, wait_until_drained
from cli.layout import DEFAULT_DATA_DIR, DEFAULT_HTTP_PORT_BASE, SERVICES_BY_NAME, service_base_url, tokens_file
from cli.tokens import DEV_TOKEN_VAR, TokenFormatError, read_tokens_file
from shared.ruleset import RulesetError, load_ruleset
from shared.settings import DEFAULT_RULESET_PATH

DAILY_RUN_ORDER = ("scoring", "tiering", "assignment", "entitlements")
REQUEST_TIMEOUT = httpx.Timeout(connect=5.0, read=900.0, write=30.0, pool=5.0)
"""A daily run over a large book takes minutes (set-based, but still every customer): wait for it."""
RULESET_PATH_VAR = "VIP_RULESET_PATH"
DATE_AHEAD_REASON = "daily_run_date_ahead"
DRAIN_TIMEOUT_S = 600.0


def resolve_token(*, token: str | None, environ: Mapping[str, str], data_dir: Path) -> str:
    """--token, then VIP_TOKEN, then the dev token that `vip up` wrote into the data directory."""
    if token:
        return token
    from_env = environ.get(DEV_TOKEN_VAR)
    if from_env:
        return from_env
    path = tokens_file(data_dir)
    try:
        dev_token = read_tokens_file(path).dev_token
    except FileNotFoundError:
        dev_token = None
    except TokenFormatError as error:
        raise click.UsageError(f"cannot take the dev token from {path}: {error}") from error
    if dev_token:
        return dev_token
    raise click.UsageError(f"no token: pass --token, set {DEV_TOKEN_VAR}, or run `vip up` to create {path}")


def insurer_today(environ: Mapping[str, str], *, now: dt.datetime | None = None) -> dt.date:
    """Today in the insurer's time zone: the ruleset's `time_zone` (the services' ruleset, env
    VIP_RULESET_PATH, else the default one), as the services judge the date."""
    path = Path(environ.get(RULESET_PATH_VAR) or DEFAULT_RULESET_PATH)
    try:
        zone = load_ruleset(path).zone
    except RulesetError as error:
        raise click.UsageError(f"no --as-of and no insurer time zone to find today in: {error}") from error
    return (now or dt.datetime.now(dt.UTC)).astimezone(zone).date()


def describe(body: Mapping[str, Any]) -> list[str]:
    """`changed` first, then what each step changed, then whatever else the service reports."""
    lines = [f"changed {body.get('changed', '?')}"]
    steps = body.get("steps")
    if isinstance(steps, Mapping):
        lines += [f"  {name:<28} {count}" for name, count in steps.items()]
    lines += [f"  {name} {value}" for name, value in body.items() if name not in ("as_of", "changed", "steps")]
    return lines


def refusal_message(*, name: str, url: str, response: httpx.Response, as_of: dt.date) -> str:
    """The service's own sentence (`detail` of its RFC 9457 body) first; the raw body only if it has none."""
    try:
        body = response.json()
    except ValueError:
        body = None
    detail = body.get("detail") if isinstance(body, dict) else None
    if not isinstance(detail, str) or not detail:
        return f"{name} refused the daily run: HTTP {response.status_code} from {url}: {response.text[:500]}"
    reason = body.get("reason") if isinstance(body, dict) else None
    message = f"{name} refused the daily run for {as_of.isoformat()}: {detail} (HTTP {response.status_code}"
    message += f", {reason})" if isinstance(reason, str) and reason else ")"
    if reason == DATE_AHEAD_REASON:
        message += (
            "\nA test environment may allow such dates: start `vip up` with VIP_ALLOW_FUTURE_DAILY_RUN=true."
        )
    return message


def run_service(
    *, client: httpx.Client, name: str, base_url: str, as_of: dt.date, token: str
) -> Mapping[str, Any]:
    url = f"{base_url}/v1/daily-runs"
    try:
        response = client.post(url, json={"as_of": as_of.isoformat()}, headers={"Authorization": f"Bearer {token}"})
    except httpx.ConnectError as exc:
        raise click.ClickException(f"{name} is not reachable at {base_url} ({exc}); is `vip up` running?") from exc
    except httpx.TimeoutException as exc:
        raise click.ClickException(f"{name} did not answer {url} in time: {exc!r}") from exc
    if response.status_code >= 400:
        raise click.ClickException(refusal_message(name=name, url=url, response=response, as_of=as_of))
    body = response.json()
    if not isinstance(body, dict):
        raise click.ClickException(f"{name} answered {url} with {body!r}, not a JSON object")
    return body


def _indented(line: str) -> None:
    click.echo(f"{'':<13} {line}")


@click.command("daily-run")
@click.option(
    "--as-of",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    help="The business date to determine, YYYY-MM-DD (default: today in the insurer's time zone).",
)
@click.option("--token", help="API bearer token (default: env VIP_TOKEN, else the dev token of `vip up`).")
@click.option(
    "--http-port-base",
    type=int,
    default=DEFAULT_HTTP_PORT_BASE,
    show_default=True,
    help="Scoring's port; tiering +1, assignment +2, entitlements +3. Env VIP_SCORING_URL etc. override per service.",
)
@click.option(
    "--data-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=DEFAULT_DATA_DIR,
    envvar="VIP_DATA_DIR",
    show_default=True,
    help="Where `vip up` keeps tokens.env (env VIP_DATA_DIR).",
)
@click.option(
    "--drain-timeout",
    type=click.FloatRange(min=0),
    default=DRAIN_TIMEOUT_S,
    show_default=True,
    help="Seconds to wait, before each service's run and after the last, for the pipeline to drain.",
)
def daily_run_command(
    as_of: dt.datetime | None, token: str | None, http_port_base: int, data_dir: Path, drain_timeout: float
) -> None:
    """Run the daily determination for AS_OF: scoring, tiering, assignment, then entitlements, each
    once the events of the one before have landed; prints what each changed and what moved downstream."""
    bearer = resolve_token(token=token, environ=os.environ, data_dir=data_dir)
    day = as_of.date() if as_of is not None else insurer_today(os.environ)
    urls = {
        name: service_base_url(service=SERVICES_BY_NAME[name], http_port_base=http_port_base)
        for name in DAILY_RUN_ORDER
    }
    with httpx.Client(timeout=REQUEST_TIMEOUT) as client:
        read = partial(read_pipeline, client=client, urls=urls, token=bearer)
        drained = partial(wait_until_drained, read, timeout_s=drain_timeout, report=_indented)
        first = previous = drained(after="the events already sent")
        changed: dict[str, int] = {}
        for name in DAILY_RUN_ORDER:
            body = run_service(client=client, name=name, base_url=urls[name], as_of=day, token=bearer)
            total, *steps = describe(body)
            click.echo(f"{name:<13} {day.isoformat()}  {total}")
            for line in steps:
                click.echo(f"{'':<13} {line}")
            if isinstance(body.get("changed"), int):
                changed[name] = body["changed"]
            current = drained(after=f"{name}'s daily run")
            step_changed = {name: changed[name]} if name in changed else {}
            _indented(f"downstream: {downstream(previous, current, changed=step_changed)}")
            previous = current
        click.echo(f"summary {day.isoformat()}: {downstream(first, previous, changed=changed)}")
