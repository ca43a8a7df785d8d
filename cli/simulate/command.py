"""`vip simulate --ruleset FILE [--as-of D] [--output FILE]`: a candidate ruleset over the whole book.

The candidate is validated exactly as the services validate the live one (`shared.ruleset`): a bad
file stops the command before anything is read, naming the field. The book is read through the
services' own interfaces (each export one consistent snapshot of its service): scoring's policies,
tiering's tiers, entitlements' contracts. Everything is computed in an embedded DuckDB (`engine`);
nothing is written to the platform.
"""

import datetime as dt
import os
import time
from collections import defaultdict
from decimal import Decimal
from pathlib import Path
from tempfile import TemporaryDirectory

import click
import httpx

from cli.daily_run import RULESET_PATH_VAR, resolve_token
from cli.exports import EXPORT_TIMEOUT, base_url, download_export, get_json, progress_bar
from cli.layout import DEFAULT_DATA_DIR, DEFAULT_HTTP_PORT_BASE
from cli.simulate import engine
from shared.ruleset import Ruleset, RulesetError, load_ruleset
from shared.settings import DEFAULT_RULESET_PATH


def contract_prices(contracts: list[dict[str, object]]) -> dict[str, Decimal]:
    """Per service: the average unit cost of its approved contracts (HQ's and branches' alike)."""
    costs: dict[str, list[Decimal]] = defaultdict(list)
    for contract in contracts:
        if contract.get("state") == "approved":
            costs[str(contract["service_code"])].append(Decimal(str(contract["unit_cost"])))
    cent = Decimal("0.01")
    return {code: (sum(values, Decimal(0)) / Decimal(len(values))).quantize(cent) for code, values in costs.items()}


def _label(tier: str | None) -> str:
    return tier or "none"


def render(simulation: engine.Simulation) -> list[str]:
    """The printed report: the matrix, the moves, the quota and its cost."""
    width = 10
    lines = [
        f"simulation of {simulation.candidate_version} as of {simulation.as_of.isoformat()}: "
        f"{simulation.customers} customers, {simulation.policies} policies",
        "",
        "migration matrix (rows: tier now; columns: tier under the candidate; customers)",
        "now / then".ljust(width) + "".join(f"{_label(tier):>{width}}" for tier in engine.TIERS),
    ]
    for now in engine.TIERS:
        cells = "".join(f"{simulation.matrix.get((now, then), 0):>{width}}" for then in engine.TIERS)
        lines.append(f"{_label(now):<{width}}{cells}")
    lines += [
        "",
        f"customers who would move: {simulation.moves} ({simulation.upgrades} up, {simulation.downgrades} down)",
        f"  of which the candidate's own effect: {simulation.moved_by_candidate} "
        "(the rest falls due under the live rules too: cooling-off ended, honorary expired)",
        f"legacy customers affected: {simulation.legacy_moves} of {simulation.legacy_customers} on the legacy standard",
        "",
        "yearly value-added quota (uses per year)",
        f"{'service':<26}{'now':>10}{'candidate':>11}{'change':>9}{'unit cost':>13}{'cost change':>14}",
    ]
    for quota in simulation.quotas:
        cost = "no contract" if quota.unit_cost is None else f"{quota.unit_cost:.2f}"
        change = "-" if quota.cost_change is None else f"{quota.cost_change:+.2f}"
        lines.append(f"{quota.code:<26}{quota.now:>10}{quota.candidate:>11}{quota.change:>+9}{cost:>13}{change:>14}")
    lines.append(
        f"{'total':<26}{sum(q.now for q in simulation.quotas):>10}"
        f"{sum(q.candidate for q in simulation.quotas):>11}{simulation.quota_change:>+9}"
        f"{'':>13}{simulation.cost_change:>+14.2f}"
    )
    return lines


def load_candidate(path: Path) -> Ruleset:
    try:
        return load_ruleset(path)
    except RulesetError as error:
        raise click.ClickException(f"the candidate ruleset is not valid, nothing was read: {error}") from error


def live_ruleset() -> Ruleset:
    path = Path(os.environ.get(RULESET_PATH_VAR) or DEFAULT_RULESET_PATH)
    try:
        return load_ruleset(path)
    except RulesetError as error:
        raise click.ClickException(f"cannot read the live ruleset for today's catalog: {error}") from error


def simulate(
    *, candidate: Ruleset, live: Ruleset, as_of: dt.date, token: str, http_port_base: int, output: Path | None
) -> engine.Simulation:
    with TemporaryDirectory(prefix="vip-simulate-") as folder, httpx.Client(timeout=EXPORT_TIMEOUT) as client:
        policies, tiers = Path(folder) / "policies.ndjson", Path(folder) / "tiers.ndjson"
        with progress_bar() as progress:
            scoring, tiering = (
                base_url("scoring", http_port_base=http_port_base),
                base_url("tiering", http_port_base=http_port_base),
            )
            download_export(
                client, f"{scoring}/v1/ops/exports/policies", token=token, into=policies, progress=progress,
                label="policies (scoring)",
            )  # fmt: skip
            download_export(
                client, f"{tiering}/v1/ops/exports/tiers", token=token, into=tiers, progress=progress,
                label="tiers (tiering)",
            )  # fmt: skip
            contracts = get_json(
                client, f"{base_url('entitlements', http_port_base=http_port_base)}/v1/contracts", token=token
            )["contracts"]
        db = engine.connect()
        engine.load_book(db, policies=policies, tiers=tiers)
        engine.load_catalogs(db, live=live, candidate=candidate, prices=contract_prices(contracts))
        engine.compute(db, candidate=candidate, live=live, as_of=as_of)
        if output is not None:
            engine.write_results(db, path=output)
        return engine.summarise(db, candidate=candidate, as_of=as_of)


@click.command("simulate")
@click.option(
    "--ruleset", "ruleset_path", required=True, type=click.Path(dir_okay=False, path_type=Path),
    help="The candidate individual ruleset (YAML), validated like the live one.",
)  # fmt: skip
@click.option(
    "--as-of", type=click.DateTime(formats=["%Y-%m-%d"]),
    help="The date to judge on, YYYY-MM-DD (default: today in the candidate's time zone).",
)  # fmt: skip
@click.option(
    "--output", type=click.Path(dir_okay=False, path_type=Path),
    help="Write the per-customer result here: Parquet for .parquet, CSV otherwise.",
)  # fmt: skip
@click.option(
    "--token", help="API bearer token with role ops (default: env VIP_TOKEN, else the dev token of `vip up`)."
)
@click.option("--http-port-base", type=int, default=DEFAULT_HTTP_PORT_BASE, show_default=True)
@click.option(
    "--data-dir", type=click.Path(file_okay=False, path_type=Path), default=DEFAULT_DATA_DIR,
    envvar="VIP_DATA_DIR", show_default=True, help="Where `vip up` keeps tokens.env.",
)  # fmt: skip
def simulate_command(  # noqa: PLR0917 (click passes the options positionally)
    ruleset_path: Path,
    as_of: dt.datetime | None,
    output: Path | None,
    token: str | None,
    http_port_base: int,
    data_dir: Path,
) -> None:
    """Run a candidate ruleset over the whole book without changing anything: the migration matrix
    (tier now x tier under the candidate), the customers who would move, the legacy customers
    affected, and the change in yearly value-added quota and its cost at current contract prices."""
    candidate = load_candidate(ruleset_path)
    live = live_ruleset()
    bearer = resolve_token(token=token, environ=os.environ, data_dir=data_dir)
    day = as_of.date() if as_of is not None else dt.datetime.now(dt.UTC).astimezone(candidate.zone).date()
    started = time.monotonic()
    simulation = simulate(
        candidate=candidate, live=live, as_of=day, token=bearer, http_port_base=http_port_base, output=output
    )
    for line in render(simulation):
        click.echo(line)
    if output is not None:
        click.echo(f"\nper-customer results: {output}")
    click.echo(f"done in {time.monotonic() - started:.1f} s")
