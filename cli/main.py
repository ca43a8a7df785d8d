"""The `vip` command: `vip up`, `vip publish FILE`, `vip daily-run --as-of DATE`, `vip simulate`,
`vip reconcile FILE`."""

import click

from cli.daily_run import daily_run_command
from cli.dlq import dlq_command
from cli.publish import publish_command
from cli.reconcile.command import reconcile_command
from cli.simulate.command import simulate_command
from cli.up import up_command


@click.group()
@click.version_option(package_name="vip-platform")
def cli() -> None:
    """VIP customer platform: scoring, tiering, assignment and entitlements.

    Start everything on this machine with `vip up`, feed it with `vip publish examples/events.jsonl`,
    and run a day's determination with `vip daily-run --as-of 2026-10-21` (the examples' C000983,
    whose cooling-off's last day is 2026-10-20, counts from that run).
    """


cli.add_command(up_command)
cli.add_command(publish_command)
cli.add_command(daily_run_command)
cli.add_command(dlq_command)
cli.add_command(simulate_command)
cli.add_command(reconcile_command)
