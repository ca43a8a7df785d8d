"""`vip daily-run`: the day's determination, service by service, in the order the data flows.

Scoring first (policies whose cooling-off ends that day start to count), then tiering (tiers from
the new points, honorary expiries), then assignment (departures announced ahead whose date has
come), then entitlements (value-added periods that roll over). Each step
must finish before the next starts, so the run stops at the first service that fails or refuses (a
date after tomorrow in the insurer's zone, unless the services allow it): its `detail` is printed and
the command exits 1.
"""

import datetime as dt
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import click
import httpx

from cli.layout import DEFAULT_DATA_DIR, DEFAULT_HTTP_PORT_BASE, SERVICES_BY_NAME, service_base_url, tokens_file
from cli.tokens import DEV_TOKEN_VAR, TokenFormatError, read_tokens_file
from shared.ruleset import RulesetError, load_ruleset
from shared.settings import DEFAULT_RULESET_PATH

DAILY_RUN_ORDER = ("scoring", "tiering", "assignment", "entitlements")
REQUEST_TIMEOUT = httpx.Timeout(connect=5.0, read=900.0, write=30.0, pool=5.0)
"""A daily run over a large book takes minutes (set-based, but still every customer): wait for it."""
RULESET_PATH_VAR = "VIP_RULESET_PATH"
DATE_AHEAD_REASON = "daily_run_date_ahead"


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


def run_service(*, client: httpx.Client, name: str, base_url: str, as_of: dt.date, token: str) -> list[str]:
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
    return describe(body)


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
def daily_run_command(as_of: dt.datetime | None, token: str | None, http_port_base: int, data_dir: Path) -> None:
    """Run the daily determination for AS_OF: scoring, tiering, assignment, then entitlements."""
    bearer = resolve_token(token=token, environ=os.environ, data_dir=data_dir)
    day = as_of.date() if as_of is not None else insurer_today(os.environ)
    with httpx.Client(timeout=REQUEST_TIMEOUT) as client:
        for name in DAILY_RUN_ORDER:
            base_url = service_base_url(service=SERVICES_BY_NAME[name], http_port_base=http_port_base)
            total, *steps = run_service(client=client, name=name, base_url=base_url, as_of=day, token=bearer)
            click.echo(f"{name:<13} {day.isoformat()}  {total}")
            for line in steps:
                click.echo(f"{'':<13} {line}")
