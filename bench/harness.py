"""What the one-service benchmarks share: their command line and a throw-away embedded PostgreSQL."""

import argparse
import asyncio
import random
import tempfile
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any, TypeVar

from cli.postgres import EmbeddedPostgres
from shared.db import Transactions
from shared.processing import Incoming, Outcome, process

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


T = TypeVar("T")


def interleave(streams: Iterable[list[T]], *, rng: random.Random, window: int = 50) -> list[T]:
    """Each stream's items in their order, streams mixed: `window` streams (customers) are in flight
    at once, so one customer's events land close together, as on a real partition."""
    mixed: list[T] = []
    active: list[list[T]] = []
    pending = iter(streams)
    while True:
        while len(active) < window:
            following = next(pending, None)
            if following is None:
                break
            active.append(following)
        if not active:
            return mixed
        chosen = rng.choice(active)
        mixed.append(chosen.pop(0))
        if not chosen:
            active.remove(chosen)


async def apply_in_batches(
    *, transactions: Transactions[Any], items: Sequence[Incoming], handlers: Mapping[str, Any], batch_size: int
) -> Outcome:
    """`process()` over consecutive batches, as the consumer would; the outcomes added up."""
    total = Outcome()
    for start in range(0, len(items), batch_size):
        outcome = await process(
            transactions=transactions,
            batch=items[start : start + batch_size],
            handler_for=lambda item: handlers.get(item.event_type),
        )
        total.applied += outcome.applied
        total.duplicates += outcome.duplicates
        total.ignored += outcome.ignored
        total.stale += outcome.stale
        total.published += outcome.published
    return total
