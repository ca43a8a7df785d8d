"""Reading the services' streaming exports (`shared.exports`) from the CLI, with a progress bar.

Each export starts with a header line `{"export": NAME, "rows": N}`; the rows follow, one JSON object
per line. A stream that ends with fewer rows than announced was cut short: it is an error, never a
silently smaller book.
"""

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import click
import httpx
import orjson
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

from cli.layout import SERVICES_BY_NAME, service_base_url

EXPORT_TIMEOUT = httpx.Timeout(connect=5.0, read=300.0, write=30.0, pool=5.0)
CHUNK_BYTES = 1 << 20


class RateColumn(TextColumn):
    """Rows per second, the figure a user compares runs by."""

    def __init__(self) -> None:
        super().__init__("")

    def render(self, task: Any) -> Any:
        speed = task.finished_speed or task.speed
        return super().render(task) if speed is None else f"{speed:,.0f} rows/s"


def progress_bar() -> Progress:
    """Counts, rate, elapsed and remaining time, on stderr so stdout stays the report."""
    from rich.console import Console

    return Progress(
        TextColumn("{task.description:<22}"),
        BarColumn(),
        MofNCompleteColumn(),
        RateColumn(),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=Console(stderr=True),
        transient=False,
    )


def base_url(name: str, *, http_port_base: int) -> str:
    return service_base_url(service=SERVICES_BY_NAME[name], http_port_base=http_port_base)


def get_json(client: httpx.Client, url: str, *, token: str) -> Any:
    try:
        response = client.get(url, headers={"Authorization": f"Bearer {token}"})
    except httpx.HTTPError as error:
        raise click.ClickException(f"{url} is not reachable ({error!r}); is `vip up` running?") from error
    if response.status_code >= 400:
        raise click.ClickException(f"{url} answered HTTP {response.status_code}: {response.text[:300]}")
    return response.json()


@contextmanager
def export_lines(
    client: httpx.Client, url: str, *, token: str, progress: Progress, label: str
) -> Iterator[Iterator[bytes]]:
    """The export's rows, one bytes line each (header consumed, counted against it as they pass)."""
    try:
        with client.stream("GET", url, headers={"Authorization": f"Bearer {token}"}) as response:
            if response.status_code >= 400:
                response.read()
                raise click.ClickException(f"{url} answered HTTP {response.status_code}: {response.text[:300]}")
            yield _rows(response, url=url, progress=progress, label=label)
    except httpx.HTTPError as error:
        raise click.ClickException(f"{url} failed: {error!r}; is `vip up` running?") from error


def _rows(response: httpx.Response, *, url: str, progress: Progress, label: str) -> Iterator[bytes]:
    task: TaskID | None = None
    expected, seen, rest = -1, 0, b""
    for chunk in response.iter_bytes(CHUNK_BYTES):
        lines = (rest + chunk).split(b"\n")
        rest = lines.pop()
        if task is None and lines:
            expected = int(orjson.loads(lines.pop(0))["rows"])
            task = progress.add_task(label, total=expected)
        yield from lines
        seen += len(lines)
        if task is not None:
            progress.update(task, completed=seen)
    if rest or seen != expected:
        raise click.ClickException(f"{url} ended after {seen} of {expected} rows: the export was cut short")


def download_export(client: httpx.Client, url: str, *, token: str, into: Path, progress: Progress, label: str) -> int:
    """Write the export's rows to `into` (NDJSON without the header) as the bytes arrive, counting the
    lines as they pass (never splitting them); the number of rows."""
    try:
        with client.stream("GET", url, headers={"Authorization": f"Bearer {token}"}) as response:
            if response.status_code >= 400:
                response.read()
                raise click.ClickException(f"{url} answered HTTP {response.status_code}: {response.text[:300]}")
            return _write(response, url=url, into=into, progress=progress, label=label)
    except httpx.HTTPError as error:
        raise click.ClickException(f"{url} failed: {error!r}; is `vip up` running?") from error


def _write(response: httpx.Response, *, url: str, into: Path, progress: Progress, label: str) -> int:
    task: TaskID | None = None
    expected, seen, head = -1, 0, b""
    with into.open("wb") as out:
        for received in response.iter_bytes(CHUNK_BYTES):
            data = received
            if task is None:
                head += received
                if b"\n" not in head:
                    continue
                header, _, data = head.partition(b"\n")
                expected = int(orjson.loads(header)["rows"])
                task = progress.add_task(label, total=expected)
            out.write(data)
            seen += data.count(b"\n")
            progress.update(task, completed=seen)
    if seen != expected:
        raise click.ClickException(f"{url} ended after {seen} of {expected} rows: the export was cut short")
    return seen
