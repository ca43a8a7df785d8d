"""Waiting for the pipeline to drain, and saying what moved through it, for `vip daily-run`.

Every service answers `GET /v1/ops/pipeline` (shared/pipeline.py): its consumer's lag on every
partition it reads, its outbox backlog, and the events it applied and published since it started.
The pipeline has drained when every service, asked in pipeline order (scoring, tiering, assignment,
entitlements), has no lag and an empty outbox: an event in flight is always somewhere one of them
reports, in the topic behind a consumer or in an outbox, and asking upstream first means an event
that moves on between two answers is caught by the later one.
"""

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import click
import httpx

PIPELINE_PATH = "/v1/ops/pipeline"
POLL_S = 0.2
REPORT_EVERY_S = 2.0


@dataclass(frozen=True, slots=True)
class ServiceState:
    """One service's answer: whether it has drained, and its counters since `counting_since`."""

    name: str
    drained: bool
    lag: int | None
    outbox_backlog: int
    counting_since: str
    applied: Mapping[str, int] = field(default_factory=dict)
    """event type -> events applied for the first time, all topics."""
    published: int = 0


def state_of(name: str, body: Mapping[str, Any]) -> ServiceState:
    applied: dict[str, int] = {}
    for by_type in body.get("applied", {}).values():
        for event_type, count in by_type.items():
            applied[event_type] = applied.get(event_type, 0) + int(count)
    return ServiceState(
        name=name, drained=bool(body["drained"]), lag=body.get("lag"), outbox_backlog=int(body["outbox_backlog"]),
        counting_since=str(body.get("counting_since")), applied=applied,
        published=sum(int(count) for count in body.get("published", {}).values()),
    )


def read_pipeline(*, client: httpx.Client, urls: Mapping[str, str], token: str) -> list[ServiceState]:
    """Every service's state, asked one after another in the order of `urls` (the pipeline's)."""
    states = []
    for name, base_url in urls.items():
        url = f"{base_url}{PIPELINE_PATH}"
        try:
            response = client.get(url, headers={"Authorization": f"Bearer {token}"})
        except httpx.ConnectError as exc:
            raise click.ClickException(f"{name} is not reachable at {base_url} ({exc}); is `vip up` running?") from exc
        except httpx.HTTPError as exc:
            raise click.ClickException(f"{name} did not answer {url}: {exc!r}") from exc
        if response.status_code >= 400:
            raise click.ClickException(
                f"{name} answered {url} with HTTP {response.status_code}: {response.text[:300]}"
            )
        states.append(state_of(name, response.json()))
    return states


def behind(states: Sequence[ServiceState]) -> str:
    """What keeps the pipeline from having drained, service by service: `tiering 120 behind, ...`."""
    parts = []
    for state in states:
        if state.lag is None:
            parts.append(f"{state.name} not reading yet")
        elif state.lag:
            parts.append(f"{state.name} {state.lag} behind")
        if state.outbox_backlog:
            parts.append(f"{state.name} {state.outbox_backlog} to publish")
    return ", ".join(parts) or "nothing"


def wait_until_drained(
    read: Callable[[], list[ServiceState]],
    *,
    timeout_s: float,
    report: Callable[[str], None],
    after: str,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> list[ServiceState]:
    """Reads the pipeline until every service has drained; a progress line every few seconds while
    it has not. Past `timeout_s` the run stops: the next step must not start on yesterday's state."""
    deadline = clock() + timeout_s
    reported_at: float | None = None
    while True:
        states = read()
        if all(state.drained for state in states):
            return states
        now = clock()
        if now >= deadline:
            raise click.ClickException(
                f"the pipeline did not drain within {timeout_s:g}s after {after}: {behind(states)}. "
                "The next steps were not run; run the same date again once it has drained "
                "(a date run twice changes nothing)."
            )
        if reported_at is None or now - reported_at >= REPORT_EVERY_S:
            report(f"waiting for the pipeline to drain: {behind(states)}")
            reported_at = now
        sleep(POLL_S)


def moved(before: ServiceState, after: ServiceState) -> tuple[dict[str, int], int]:
    """What the service applied and published between two answers; all of `after` if it restarted."""
    if before.counting_since != after.counting_since:
        return dict(after.applied), after.published
    applied = {
        event_type: count - before.applied.get(event_type, 0)
        for event_type, count in after.applied.items() if count > before.applied.get(event_type, 0)
    }
    return applied, max(0, after.published - before.published)


def downstream(before: Sequence[ServiceState], after: Sequence[ServiceState], *, changed: Mapping[str, int]) -> str:
    """`scoring changed 12, published 12 → tiering applied 12 customer_scored, published 12 → ...`.

    `changed` is what each service's own daily run changed; a service that neither ran, applied nor
    published anything is left out.
    """
    links = []
    for old, new in zip(before, after, strict=True):
        applied, published = moved(old, new)
        parts = []
        if applied:
            parts.append("applied " + " + ".join(f"{count} {kind}" for kind, count in sorted(applied.items())))
        if new.name in changed:
            parts.append(f"changed {changed[new.name]}")
        if published:
            parts.append(f"published {published}")
        if parts:
            links.append(f"{new.name} {', '.join(parts)}")
    return " → ".join(links) or "nothing moved"
