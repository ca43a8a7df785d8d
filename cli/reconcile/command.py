"""`vip reconcile FILE [--full] [--publish] [--report FILE]`: the platform against the source of record.

The snapshot is merged, streaming, with scoring's export of every policy (`GET /v1/ops/exports/policies`,
one consistent snapshot, in policy-number order); `diff` judges each policy number. Exit status as
`diff`'s: 0 when the platform agrees, 1 when differences were found (a malformed line is one), 2 when
it could not run (no service, a cut export, an unreadable file).
"""

import asyncio
import csv
import datetime as dt
import os
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from tempfile import TemporaryDirectory
from typing import IO, Any

import click
import httpx
import orjson

from cli.daily_run import RULESET_PATH_VAR, resolve_token
from cli.exports import EXPORT_TIMEOUT, base_url, export_lines, progress_bar
from cli.layout import DEFAULT_BOOTSTRAP_SERVERS, DEFAULT_DATA_DIR, DEFAULT_HTTP_PORT_BASE
from cli.publish import send_file
from cli.reconcile import snapshot
from cli.reconcile.diff import Difference, Tally, reconcile
from shared.ruleset import Ruleset, RulesetError, load_ruleset
from shared.settings import DEFAULT_RULESET_PATH

REPORT_COLUMNS = (
    "kind", "policy_no", "line", "snapshot_version", "platform_version", "snapshot_holder", "platform_holder",
    "snapshot_status", "platform_status", "fields", "snapshot_points", "platform_points", "published", "detail",
)  # fmt: skip
RECONCILED_NAMESPACE = uuid.UUID("5d0c1e4e-7a51-4c6b-9a0e-2f5b6f1d3c21")
SHOWN = 20


def report_row(difference: Difference, *, published: bool) -> list[object]:
    theirs, ours = difference.snapshot, difference.platform
    return [
        difference.kind, difference.policy_no, difference.line or "",
        theirs.version if theirs else "", ours.version if ours else "",
        theirs.holder_id if theirs else "", ours.holder_id if ours else "",
        theirs.status.value if theirs else "", ours.status.value if ours else "",
        ";".join(difference.fields), f"{difference.snapshot_points:.2f}", f"{difference.platform_points:.2f}",
        "yes" if published else "", difference.detail,
    ]  # fmt: skip


def correction(difference: Difference, *, occurred_at: dt.datetime) -> bytes:
    """The `policy_reconciled` event: the snapshot's state; its id derives from that state, so
    publishing the same snapshot twice has no second effect (the inbox drops the repeat)."""
    assert difference.snapshot is not None
    state = difference.snapshot.model_dump(mode="json")
    previous = difference.platform.holder_id if difference.platform is not None else None
    event_id = uuid.uuid5(RECONCILED_NAMESPACE, orjson.dumps(state, option=orjson.OPT_SORT_KEYS).decode())
    return orjson.dumps(
        {
            "event_id": str(event_id),
            "event_type": "policy_reconciled",
            "occurred_at": occurred_at.isoformat(),
            "previous_holder_id": previous if previous != state["holder_id"] else None,
            "policy": state,
        }
    )


def _platform(lines: Iterator[bytes]) -> Iterator[dict[str, Any]]:
    for line in lines:
        policy: dict[str, Any] = orjson.loads(line)["policy"]
        yield policy


def run(
    *, path: Path, ruleset: Ruleset, as_of: dt.date, token: str, http_port_base: int, full: bool,
    report: IO[str], corrections: IO[bytes] | None,
) -> Tally:  # fmt: skip
    tally = Tally()
    writer = csv.writer(report)
    writer.writerow(REPORT_COLUMNS)
    now = dt.datetime.now(dt.UTC)
    url = f"{base_url('scoring', http_port_base=http_port_base)}/v1/ops/exports/policies?sorted=true"
    with (
        TemporaryDirectory(prefix="vip-reconcile-") as scratch,
        httpx.Client(timeout=EXPORT_TIMEOUT) as client,
        progress_bar() as progress,
        export_lines(client, url, token=token, progress=progress, label="policies (scoring)") as lines,
    ):
        theirs = snapshot.in_order(path, scratch=Path(scratch))
        for difference in reconcile(theirs, _platform(lines), ruleset=ruleset, as_of=as_of, full=full, tally=tally):
            published = corrections is not None and difference.publish
            if published and corrections is not None:
                corrections.write(correction(difference, occurred_at=now) + b"\n")
            writer.writerow(report_row(difference, published=published))
    return tally


def summary(tally: Tally, *, full: bool, published: int | None) -> list[str]:
    kinds = tally.kinds
    lines = [
        f"policies compared: {tally.compared}, agreeing: {tally.agreeing}",
        f"in the snapshot but unknown here: {kinds.get('only_in_snapshot', 0)}",
        f"different version: {kinds.get('version', 0)}",
        f"same version, different state: {kinds.get('state', 0)}",
        f"malformed snapshot lines: {kinds.get('malformed', 0)}",
        (
            f"known here but not in the snapshot: {kinds.get('only_on_platform', 0)}"
            if full
            else f"known here but not in the snapshot: {tally.unchecked} (not checked; --full lists them)"
        ),
    ]
    changing = tally.customers_changing
    lines.append(f"customers whose points would change: {len(changing)}")
    lines += [f"  {holder}: {change:+.2f}" for holder, change in list(changing.items())[:SHOWN]]
    if len(changing) > SHOWN:
        lines.append(f"  ... and {len(changing) - SHOWN} more (see the report)")
    if published is not None:
        lines.append(f"policy_reconciled events published: {published}")
    return lines


def _live_ruleset() -> Ruleset:
    path = Path(os.environ.get(RULESET_PATH_VAR) or DEFAULT_RULESET_PATH)
    try:
        return load_ruleset(path)
    except RulesetError as error:
        raise click.ClickException(f"cannot read the live ruleset: {error}") from error


def _publish(path: Path, *, bootstrap_servers: str) -> int:
    from aiokafka.errors import KafkaError

    try:
        sent = asyncio.run(send_file(path=path, bootstrap_servers=bootstrap_servers, topic=None, report=lambda _: None))
    except KafkaError as error:
        raise click.ClickException(f"publishing to {bootstrap_servers} failed: {error!r}") from error
    return sum(sent.values())


@click.command("reconcile")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--full", is_flag=True, help="Also list the policies the platform knows that the snapshot lacks.")
@click.option("--publish", is_flag=True, help="Send policy_reconciled for each policy the snapshot corrects.")
@click.option("--report", "report_path", type=click.Path(dir_okay=False, path_type=Path),
              help="Write every difference here (CSV); default: reconcile-report.csv.")  # fmt: skip
@click.option(
    "--token", help="API bearer token with role ops (default: env VIP_TOKEN, else the dev token of `vip up`)."
)
@click.option("--http-port-base", type=int, default=DEFAULT_HTTP_PORT_BASE, show_default=True)
@click.option("--bootstrap-servers", envvar="VIP_KAFKA_BOOTSTRAP_SERVERS", default=DEFAULT_BOOTSTRAP_SERVERS,
              show_default=True, help="Kafka, for --publish (env VIP_KAFKA_BOOTSTRAP_SERVERS).")  # fmt: skip
@click.option("--data-dir", type=click.Path(file_okay=False, path_type=Path), default=DEFAULT_DATA_DIR,
              envvar="VIP_DATA_DIR", show_default=True, help="Where `vip up` keeps tokens.env.")  # fmt: skip
def reconcile_command(  # noqa: PLR0917 (click passes the options positionally)
    file: Path, full: bool, publish: bool, report_path: Path | None, token: str | None, http_port_base: int,
    bootstrap_servers: str, data_dir: Path,
) -> None:  # fmt: skip
    """Compare FILE, a policy admin snapshot (one `policy` object of the pas.policy-events shape per
    line), with every policy the platform knows. Exit status: 0 agree, 1 differences, 2 could not run."""
    started = time.monotonic()
    report_path = report_path or Path("reconcile-report.csv")
    try:
        ruleset = _live_ruleset()
        bearer = resolve_token(token=token, environ=os.environ, data_dir=data_dir)
        as_of = dt.datetime.now(dt.UTC).astimezone(ruleset.zone).date()
        with TemporaryDirectory(prefix="vip-corrections-") as folder:
            corrections_path = Path(folder) / "corrections.jsonl"
            with report_path.open("w", newline="") as report, corrections_path.open("wb") as corrections:
                tally = run(
                    path=file, ruleset=ruleset, as_of=as_of, token=bearer, http_port_base=http_port_base,
                    full=full, report=report, corrections=corrections if publish else None,
                )  # fmt: skip
            published = _publish(corrections_path, bootstrap_servers=bootstrap_servers) if publish else None
    except (click.ClickException, OSError) as error:
        message = error.format_message() if isinstance(error, click.ClickException) else str(error)
        click.echo(f"vip reconcile could not run: {message}", err=True)
        sys.exit(2)
    for line in summary(tally, full=full, published=published):
        click.echo(line)
    click.echo(f"report: {report_path} ({time.monotonic() - started:.1f} s)")
    sys.exit(1 if tally.kinds else 0)
