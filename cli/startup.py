"""`vip up`'s checks around the start: nothing in the way before, every child ready after, the topics
created, and the banner that says where everything is."""

import asyncio
import importlib.util
from collections.abc import Mapping, Sequence

import httpx

from cli.children import UpOptions
from cli.launch import log_tail, port_is_free
from cli.layout import DASHBOARD_NAME, SERVICES, dashboard_port, logs_dir
from cli.postgres import PostgresTarget
from cli.supervisor import SupervisedChild
from cli.tokens import TokenSet


class StartupError(RuntimeError):
    """The platform could not start; the message names the part and what to look at."""


ALLOW_FUTURE_DAILY_RUN_VAR = "VIP_ALLOW_FUTURE_DAILY_RUN"
_TRUE = frozenset({"1", "on", "t", "true", "y", "yes"})
_FALSE = frozenset({"0", "off", "f", "false", "n", "no"})
"""What the services' settings (pydantic) read as a boolean: anything else would stop them at start."""


def future_daily_run_warning(environ: Mapping[str, str]) -> str | None:
    """The warning to print when the services will accept daily runs dated after tomorrow.

    The variable reaches the services with the rest of our environment (`child_env`); a value they
    would not read as a boolean stops `vip up` here rather than every service in a restart loop.
    """
    value = environ.get(ALLOW_FUTURE_DAILY_RUN_VAR)
    if value is None or value.strip().lower() in _FALSE:
        return None
    if value.strip().lower() not in _TRUE:
        raise StartupError(f"{ALLOW_FUTURE_DAILY_RUN_VAR}={value!r} is neither true nor false")
    return (
        f"WARNING: {ALLOW_FUTURE_DAILY_RUN_VAR} is on: the services accept daily runs dated after tomorrow, "
        "which move the business date forward for good. For test environments only."
    )


def check_can_start(options: UpOptions) -> None:
    """Fail before starting anything: a busy port would make us probe someone else's /readyz."""
    for service in SERVICES:
        if importlib.util.find_spec(service.module) is None:
            raise StartupError(f"module {service.module} not found: is the platform installed (pip install -e .)?")
        port = service.port(base=options.http_port_base)
        if not port_is_free(port):
            raise StartupError(f"port {port} for {service.name} is in use; choose another --http-port-base")
    if not port_is_free(dashboard_port(base=options.http_port_base)):
        raise StartupError(
            f"port {dashboard_port(base=options.http_port_base)} for the dashboard is in use; "
            "choose another --http-port-base"
        )


async def wait_ready(*, children: list[SupervisedChild], options: UpOptions) -> None:
    """Poll every service's /readyz until all answer 200; on timeout name the laggards and their logs."""
    pending = {child.spec.name: child for child in children}
    ports = {s.name: s.port(base=options.http_port_base) for s in SERVICES}
    ports[DASHBOARD_NAME] = dashboard_port(base=options.http_port_base)
    loop = asyncio.get_running_loop()
    deadline = loop.time() + options.ready_timeout_s
    async with httpx.AsyncClient(timeout=2.0) as client:
        while pending:
            for name in list(pending):
                try:
                    response = await client.get(f"http://127.0.0.1:{ports[name]}/readyz")
                except httpx.TransportError:
                    continue  # not listening yet (or restarting)
                if response.status_code == 200:
                    del pending[name]
            if not pending:
                return
            if loop.time() >= deadline:
                raise StartupError(_not_ready_message(list(pending.values()), options=options))
            await asyncio.sleep(0.25)


def _not_ready_message(children: list[SupervisedChild], *, options: UpOptions) -> str:
    parts = []
    for child in children:
        restarts = f", restarted {child.restarts} time(s)" if child.restarts else ""
        parts.append(
            f"{child.spec.name} was not ready within {options.ready_timeout_s:g} s{restarts}. "
            f"Last lines of {child.spec.log_path}:\n{log_tail(child.spec.log_path)}"
        )
    return "\n\n".join(parts)


def banner(
    *, options: UpOptions, postgres: PostgresTarget, broker: str, tokens: TokenSet, warnings: Sequence[str] = ()
) -> str:
    lines = ["VIP platform is up.", ""]
    for service in SERVICES:
        url = f"http://127.0.0.1:{service.port(base=options.http_port_base)}"
        lines.append(f"  {service.name:<13} {url:<24} database {service.database}")
    dashboard = f"http://127.0.0.1:{dashboard_port(base=options.http_port_base)}/"
    lines += [
        "",
        f"  dashboard     {dashboard:<24} operations (log in with a token holding the ops role)",
        "",
        f"  broker        {broker}",
        f"  PostgreSQL    {postgres.description}",
        f"  logs          {logs_dir(options.data_dir)}/<service>.log",
        f"  tokens        {tokens.source}",
    ]
    if tokens.dev_token:
        lines.append(f"  dev token     {tokens.dev_token}   (all roles; curl -H 'Authorization: Bearer ...')")
    lines += ["", *warnings, *([""] if warnings else []), "Press Ctrl-C to stop."]
    return "\n".join(lines)


async def create_topics(bootstrap_servers: str) -> None:
    from aiokafka.errors import KafkaError

    from shared.kafka import ensure_topics
    from shared.topics import all_topics

    try:
        await ensure_topics(bootstrap_servers=bootstrap_servers, topics=all_topics(), partitions=8)
    except KafkaError as exc:
        raise StartupError(f"cannot create topics on {bootstrap_servers}: {exc!r}") from exc


