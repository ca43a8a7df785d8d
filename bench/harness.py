"""What the one-service benchmarks share: their command line and a throw-away embedded PostgreSQL."""

import argparse
import asyncio
import tempfile
from collections.abc import Awaitable, Callable
from pathlib import Path

from cli.local import EmbeddedPostgres

Bench = Callable[[int, int, EmbeddedPostgres], Awaitable[None]]


def run_alone(bench: Bench, *, description: str | None, events: int) -> None:
    """Parse `--events` and `--batch`, start PostgreSQL in a temporary directory, run, clean up."""
    parser = argparse.ArgumentParser(description=description, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=events)
    parser.add_argument("--batch", type=int, default=500)
    arguments = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="vip-bench-") as scratch:
        server = EmbeddedPostgres()
        server.start(Path(scratch) / "pgdata")
        try:
            asyncio.run(bench(arguments.events, arguments.batch, server))
        finally:
            server.stop()
