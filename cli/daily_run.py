"""`vip daily-run`: the day's determination, service by service, in the order the data flows.

Scoring first (policies whose cooling-off ends that day start to count), then tiering (tiers from
the new points, honorary expiries), then entitlements (value-added periods that roll over). Each step
must finish before the next starts, so the run stops at the first service that fails.
"""

import datetime as dt
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import click
import httpx

from cli.layout import DEFAULT_DATA_DIR, DEFAULT_HTTP_PORT_BASE, SERVICES_BY_NAME, service_base_url, tokens_file
from cli.tokens import DEV_TOKEN_VAR, read_tokens_file

DAILY_RUN_ORDER = ("scoring", "tiering", "entitlements")
REQUEST_TIMEOUT = httpx.Timeout(connect=5.0, read=900.0, write=30.0, pool=5.0)
"""A daily run over a large book takes minutes (set-based, but still every customer): wait for it."""


def resolve_token(*, token: str | None, environ: Mapping[str, str], data_dir: Path) -> str:
    """--token, then VIP_TOKEN, then the dev token that `vip up` wrote into the data directory."""
    if token:
        return token
    from_env = environ.get(DEV_TOKEN_VAR)
    if from_env:
        return from_env
    path = tokens_file(data_dir)
    if path.exists():
        dev_token = read_tokens_file(path).dev_token
        if dev_token:
            return dev_token
    raise click.UsageError(f"no token: pass --token, set {DEV_TOKEN_VAR}, or run `vip up` to create {path}")


def describe(body: Mapping[str, Any]) -> str:
    """`changed` first, then whatever else the service reports about its run, in its own order."""
    details = [f"changed {body.get('changed', '?')}"]
    details += [f"{name} {value}" for name, value in body.items() if name not in ("as_of", "changed")]
    return ", ".join(details)


def run_service(*, client: httpx.Client, name: str, base_url: str, as_of: dt.date, token: str) -> str:
    url = f"{base_url}/v1/daily-runs"
    try:
        response = client.post(url, json={"as_of": as_of.isoformat()}, headers={"Authorization": f"Bearer {token}"})
    except httpx.ConnectError as exc:
        raise click.ClickException(f"{name} is not reachable at {base_url} ({exc}); is `vip up` running?") from exc
    except httpx.TimeoutException as exc:
        raise click.ClickException(f"{name} did not answer {url} in time: {exc!r}") from exc
    if response.status_code >= 400:
        raise click.ClickException(
            f"{name} refused the daily run: HTTP {response.status_code} from {url}: {response.text[:500]}"
        )
    body = response.json()
    if not isinstance(body, dict):
        raise click.ClickException(f"{name} answered {url} with {body!r}, not a JSON object")
    return describe(body)


@click.command("daily-run")
@click.option(
    "--as-of",
    required=True,
    type=click.DateTime(formats=["%Y-%m-%d"]),
    help="The business date to determine, YYYY-MM-DD.",
)
@click.option("--token", help="API bearer token (default: env VIP_TOKEN, else the dev token of `vip up`).")
@click.option(
    "--http-port-base",
    type=int,
    default=DEFAULT_HTTP_PORT_BASE,
    show_default=True,
    help="Scoring's port; tiering +1, entitlements +3. Env VIP_SCORING_URL etc. override per service.",
)
@click.option(
    "--data-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=DEFAULT_DATA_DIR,
    envvar="VIP_DATA_DIR",
    show_default=True,
    help="Where `vip up` keeps tokens.env (env VIP_DATA_DIR).",
)
def daily_run_command(as_of: dt.datetime, token: str | None, http_port_base: int, data_dir: Path) -> None:
    """Run the daily determination for AS_OF: scoring, then tiering, then entitlements."""
    bearer = resolve_token(token=token, environ=os.environ, data_dir=data_dir)
    day = as_of.date()
    with httpx.Client(timeout=REQUEST_TIMEOUT) as client:
        for name in DAILY_RUN_ORDER:
            base_url = service_base_url(service=SERVICES_BY_NAME[name], http_port_base=http_port_base)
            summary = run_service(client=client, name=name, base_url=base_url, as_of=day, token=bearer)
            click.echo(f"{name:<13} {day.isoformat()}  {summary}")
