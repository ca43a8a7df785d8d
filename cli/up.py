"""`vip up`: the whole platform on this machine, until Ctrl-C or SIGTERM.

Order matters both ways. Up: PostgreSQL and the broker first (databases and topics created), then the
four services, each its own process with its own database, and we wait for every `/readyz`. Down:
the services first (so none of them logs a storm of connection errors), then the broker, then
PostgreSQL; and finally a check that no process we started is left behind.
"""

import asyncio
import os
import signal
import sys
from collections.abc import Callable, Coroutine, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import click
import psutil
from sqlalchemy.exc import SQLAlchemyError

from cli.broker import KAFKA_BOOTSTRAP_VAR, TansuBroker
from cli.children import UpOptions, child_specs, dashboard_spec
from cli.launch import LaunchError
from cli.layout import (
    DEFAULT_BROKER_PORT,
    DEFAULT_DATA_DIR,
    DEFAULT_HTTP_PORT_BASE,
    SERVICES,
    logs_dir,
    postgres_dir,
    tokens_file,
)
from cli.postgres import EmbeddedPostgres, PostgresTarget, postgres_from_env
from cli.private_files import make_private_dir
from cli.startup import (
    StartupError,
    banner,
    check_can_start,
    create_topics,
    future_daily_run_warning,
    wait_ready,
)
from cli.stopping import MEASUREMENT_FAILURES, BacklogProbe, consumed_topics, consumer_groups, drain, unless_set
from cli.supervisor import PidRegistry, Supervisor
from cli.tokens import TokenFormatError, load_or_create_tokens

Report = Callable[[str], None]


class Shutdown:
    """First signal: stop gracefully. Second: stop now (children are killed without grace)."""

    def __init__(self, report: Report) -> None:
        self.requested = asyncio.Event()
        self.forced = asyncio.Event()
        self._report = report

    def on_signal(self, signum: int) -> None:
        if self.requested.is_set():
            self._report("second signal: killing the services now")
            self.forced.set()
            return
        self._report(f"{signal.Signals(signum).name} received: stopping (again to kill at once)")
        self.requested.set()


@dataclass
class _Running:
    """What this `vip up` started, so that it is stopped whatever failed half-way."""

    embedded: EmbeddedPostgres | None = None
    broker: TansuBroker | None = None
    supervisor: Supervisor | None = None

    async def stop(self, *, grace_s: float, force: asyncio.Event, report: Report) -> None:
        if self.supervisor is not None:
            await self.supervisor.stop(grace_s=grace_s, force=force)
        if self.broker is not None:
            self.broker.stop()
        if self.embedded is not None:
            await asyncio.to_thread(self.embedded.stop)
        _reap_leftovers(report)


async def _start_postgres(
    running: _Running, *, options: UpOptions, environ: Mapping[str, str], report: Report
) -> PostgresTarget:
    postgres: PostgresTarget | None = postgres_from_env(environ)
    if postgres is None:
        running.embedded = EmbeddedPostgres()
        report("starting embedded PostgreSQL ...")
        await asyncio.to_thread(running.embedded.start, postgres_dir(options.data_dir))
        postgres = running.embedded
    try:
        await postgres.create_databases(s.database for s in SERVICES)
    except (OSError, SQLAlchemyError) as exc:
        raise StartupError(f"cannot create the databases on {postgres.description}: {exc}") from exc
    return postgres


async def _start_broker(
    running: _Running, *, options: UpOptions, environ: Mapping[str, str], report: Report, registry: PidRegistry
) -> tuple[str, bool | None]:
    """Bootstrap servers and the idempotence to impose (None: leave the services' default)."""
    bootstrap_servers = environ.get(KAFKA_BOOTSTRAP_VAR)
    kafka_idempotence: bool | None = None
    if not bootstrap_servers:
        running.broker = TansuBroker(log_dir=logs_dir(options.data_dir))
        report(f"starting the Tansu broker on 127.0.0.1:{options.broker_port} ...")
        running.broker.start(options.broker_port)  # from the main thread: the broker dies with us
        if running.broker.pid is not None:
            registry.record("tansu", running.broker.pid)
        bootstrap_servers, kafka_idempotence = running.broker.bootstrap_servers, False
    await create_topics(bootstrap_servers)
    return bootstrap_servers, kafka_idempotence


async def run_platform(options: UpOptions, *, report: Report, environ: Mapping[str, str]) -> int:
    """Start everything, wait for a signal, stop everything; the exit status."""
    shutdown = Shutdown(report)
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, shutdown.on_signal, signum)
    running = _Running()
    try:
        warning = future_daily_run_warning(environ)
        if warning is not None:
            report(warning)
        make_private_dir(options.data_dir)
        make_private_dir(logs_dir(options.data_dir))
        tokens = load_or_create_tokens(path=tokens_file(options.data_dir), environ=environ)
        registry = PidRegistry(options.data_dir / "run" / "children.json")
        registry.stop_orphans(report=report)
        check_can_start(options)
        postgres = await _start_postgres(running, options=options, environ=environ, report=report)
        bootstrap_servers, kafka_idempotence = await _start_broker(
            running, options=options, environ=environ, report=report, registry=registry
        )
        if shutdown.requested.is_set():
            return 130
        specs = child_specs(
            options=options,
            postgres=postgres,
            bootstrap_servers=bootstrap_servers,
            kafka_idempotence=kafka_idempotence,
            tokens=tokens,
            base_env=environ,
        )
        specs.append(dashboard_spec(
            options=options, bootstrap_servers=bootstrap_servers, tokens=tokens, base_env=environ
        ))
        running.supervisor = Supervisor(specs, report=report, on_spawn=registry.record)
        await running.supervisor.start()
        report("waiting for the services to be ready ...")
        ready = await _unless_shutdown(wait_ready(children=running.supervisor.children, options=options), shutdown)
        if ready:
            kind = "embedded Tansu, memory only" if running.broker else "external"
            report(banner(options=options, postgres=postgres, broker=f"{bootstrap_servers} ({kind})", tokens=tokens,
                          warnings=[warning] if warning else []))
            await shutdown.requested.wait()
        if running.broker is not None:
            # Also when stopped before every service answered ready: a producer may already have
            # published (a service answers before `vip up` has seen all four), and what the broker
            # holds is lost with it all the same.
            await _drain_memory_broker(
                options=options, postgres=postgres, bootstrap_servers=bootstrap_servers, environ=environ,
                shutdown=shutdown, report=report,
            )
        return 0 if ready else 130
    except (StartupError, LaunchError, TokenFormatError) as exc:
        report(f"vip up: {exc}")
        return 1
    finally:
        await running.stop(grace_s=options.stop_grace_s, force=shutdown.forced, report=report)
        report("stopped.")


async def _drain_memory_broker(
    *, options: UpOptions, postgres: PostgresTarget, bootstrap_servers: str, environ: Mapping[str, str],
    shutdown: Shutdown, report: Report,
) -> None:
    """Only the embedded broker loses what it holds when stopped: an external Kafka keeps it."""
    report(f"waiting up to {options.drain_timeout_s:g} s until every event is consumed (Ctrl-C again to stop now)")
    probe = BacklogProbe(
        bootstrap_servers=bootstrap_servers,
        consumed=consumed_topics(),
        groups=consumer_groups(environ),
        database_urls={service.name: postgres.database_url(service.database) for service in SERVICES},
    )
    try:
        async with asyncio.timeout(15):
            await probe.start()
        await drain(measure=probe.measure, timeout_s=options.drain_timeout_s, forced=shutdown.forced, report=report)
    except MEASUREMENT_FAILURES as error:
        report(f"cannot measure the backlog ({error!r}): stopping; events not yet consumed are lost")
    finally:
        await probe.close()


async def _unless_shutdown(work: Coroutine[Any, Any, None], shutdown: Shutdown) -> bool:
    """Run `work` until it finishes (True) or a shutdown is requested first (False)."""
    finished, _ = await unless_set(work, shutdown.requested)
    return finished


def _reap_leftovers(report: Report) -> None:
    """Anything still below us at this point is a bug somewhere; say so and kill it."""
    for process in psutil.Process().children(recursive=True):
        try:
            if process.status() == psutil.STATUS_ZOMBIE:
                continue
            report(f"killing leftover process {process.pid} {process.name()}")
            process.kill()
        except psutil.NoSuchProcess:
            continue  # exited between the listing and now: nothing left to do


@click.command("up")
@click.option(
    "--data-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=DEFAULT_DATA_DIR,
    envvar="VIP_DATA_DIR",
    show_default=True,
    help="PostgreSQL data, logs and tokens.env (env VIP_DATA_DIR); kept between runs.",
)
@click.option("--broker-port", type=int, default=DEFAULT_BROKER_PORT, show_default=True)
@click.option("--http-port-base", type=int, default=DEFAULT_HTTP_PORT_BASE, show_default=True)
@click.option("--ready-timeout", type=float, default=120.0, show_default=True, help="Seconds to wait for /readyz.")
@click.option(
    "--drain-timeout", type=click.FloatRange(min=0), default=60.0, show_default=True,
    help="On Ctrl-C, seconds to wait until the embedded broker holds no unconsumed event.",
)
def up_command(
    data_dir: Path, broker_port: int, http_port_base: int, ready_timeout: float, drain_timeout: float
) -> None:
    """Run the whole platform on this machine until Ctrl-C.

    Starts an embedded PostgreSQL (or uses VIP_POSTGRES_URL) and the embedded Tansu broker (or uses
    VIP_KAFKA_BOOTSTRAP_SERVERS), creates the databases and topics, then runs scoring, tiering,
    assignment and entitlements on ports base+0..3 and the operations dashboard on base+4, and restarts
    any that exits. On Ctrl-C it first waits (at most --drain-timeout) until the embedded broker holds
    no event a service has not consumed, printing the backlog; a second Ctrl-C stops at once. API tokens come from
    VIP_API_TOKENS, else from DATA_DIR/tokens.env (created on first run, mode 0600).
    VIP_ALLOW_FUTURE_DAILY_RUN=true (test environments only) lets the services accept daily runs
    dated after tomorrow; a warning is printed while it is on.
    """
    options = UpOptions(
        data_dir=data_dir.resolve(),
        broker_port=broker_port,
        http_port_base=http_port_base,
        ready_timeout_s=ready_timeout,
        drain_timeout_s=drain_timeout,
    )
    code = asyncio.run(run_platform(options, report=lambda text: click.echo(text, err=False), environ=os.environ))
    sys.exit(code)
