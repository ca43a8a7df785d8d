"""The services' durable dead letters over HTTP (`/v1/ops/dead-letters`, `shared/dead_letter_api.py`),
as `vip dlq` reads and replays them.

Every service keeps its own letters in its own database (the broker's `<topic>.dlq` copy is gone
after a restart of the memory-only broker, and expires on a real one), so the CLI asks each service.
A list is newest first and paged by id (`before_id`), so choosing the letters since a time reads
only the pages after it. A replay is the service's: it republishes the original bytes, key and
headers to the source topic **on the source partition**, marks the letter (`replays`) and adds a
`dlq.replayed_from` header.
"""

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

import click
import httpx

PAGE = 500
NOT_REPLAYABLE = "publish"
"""A letter the relay could not publish: the broker refused it for good, so it is not sent again."""


@dataclass(frozen=True, slots=True)
class Letter:
    service: str
    id: int
    stage: str
    source_topic: str
    source_partition: int
    source_offset: int
    reason: str
    failed_at: datetime
    size: int
    replays: int

    @classmethod
    def of(cls, service: str, body: Mapping[str, Any]) -> "Letter":
        return cls(
            service=service, id=int(body["id"]), stage=str(body["stage"]), source_topic=str(body["source_topic"]),
            source_partition=int(body["source_partition"]), source_offset=int(body["source_offset"]),
            reason=str(body["reason"]), failed_at=datetime.fromisoformat(str(body["failed_at"])),
            size=int(body["size"]), replays=int(body["replays"]),
        )

    @property
    def position(self) -> str:
        return f"{self.source_topic}[{self.source_partition}]@{self.source_offset}"


def parse_since(raw: str) -> datetime:
    """A date (midnight UTC) or an ISO date-time (UTC if it names no offset)."""
    try:
        moment = datetime.fromisoformat(raw)
    except ValueError:
        moment = datetime.combine(date.fromisoformat(raw), datetime.min.time())
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def problem_text(response: httpx.Response) -> str:
    """The service's own sentence (RFC 9457 `detail`), else the start of the body."""
    try:
        body = response.json()
    except ValueError:
        body = None
    detail = body.get("detail") if isinstance(body, dict) else None
    return detail if isinstance(detail, str) and detail else response.text[:300]


class DeadLetterApi:
    """One client for every service's dead-letter endpoints; a failure is a `click.ClickException`."""

    def __init__(self, *, client: httpx.Client, urls: Mapping[str, str], token: str) -> None:
        self._client = client
        self._urls = urls
        self._headers = {"Authorization": f"Bearer {token}"}

    @property
    def services(self) -> list[str]:
        return list(self._urls)

    def _call(self, method: str, service: str, path: str, *, params: Mapping[str, str] | None = None) -> Any:
        url = f"{self._urls[service]}/v1/ops/dead-letters{path}"
        try:
            response = self._client.request(method, url, params=params, headers=self._headers)
        except httpx.HTTPError as error:
            raise click.ClickException(
                f"{service} is not reachable at {url} ({error!r}); is `vip up` running?"
            ) from error
        if response.status_code >= 400:
            raise click.ClickException(
                f"{service} answered {method} {url} with {response.status_code}: {problem_text(response)}"
            )
        return response.json()

    def newest(
        self, service: str, *, source_topic: str | None = None, since: datetime | None = None,
        limit: int | None = None,
    ) -> Iterator[Letter]:
        """The service's letters newest first (by id: the order they were parked in), down to `since`."""
        before: int | None = None
        given = 0
        while True:
            params = {"limit": str(PAGE if limit is None else min(PAGE, limit - given))}
            if source_topic is not None:
                params["source_topic"] = source_topic
            if before is not None:
                params["before_id"] = str(before)
            page = self._call("GET", service, "", params=params)
            for body in page["letters"]:
                letter = Letter.of(service, body)
                if since is not None and letter.failed_at < since:
                    return
                yield letter
                given += 1
                if limit is not None and given >= limit:
                    return
            before = page.get("next_before_id")
            if before is None:
                return

    def show(self, service: str, letter_id: int) -> dict[str, Any]:
        shown: dict[str, Any] = self._call("GET", service, f"/{letter_id}")
        return shown

    def replay(self, letter: Letter) -> dict[str, Any]:
        replayed: dict[str, Any] = self._call("POST", letter.service, f"/{letter.id}/replays")
        return replayed


def newest_first(letters: Iterable[Letter], *, limit: int) -> list[Letter]:
    return sorted(letters, key=lambda letter: (letter.failed_at, letter.id), reverse=True)[:limit]


def select_for_replay(letters: Iterable[Letter], *, limit: int | None) -> tuple[list[Letter], list[Letter]]:
    """(to replay, not replayable): oldest first, so one key's letters go back in the order they failed;
    `limit` counts the replayable ones."""
    ordered = sorted(letters, key=lambda letter: (letter.failed_at, letter.service, letter.id))
    chosen = [letter for letter in ordered if letter.stage != NOT_REPLAYABLE]
    skipped = [letter for letter in ordered if letter.stage == NOT_REPLAYABLE]
    return (chosen if limit is None else chosen[:limit]), skipped


def letter_line(letter: Letter, *, reason_width: int = 120) -> str:
    reason = letter.reason if len(letter.reason) <= reason_width else letter.reason[: reason_width - 1] + "…"
    replays = f" replays={letter.replays}" if letter.replays else ""
    return (f"{letter.failed_at.isoformat(timespec='seconds')}  {letter.service:<12} #{letter.id:<6} "
            f"{letter.position}  {letter.stage} {letter.size} B{replays}  {reason}")
