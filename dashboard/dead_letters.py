"""The dead letters every service keeps in its own database, read through its HTTP API
(`GET /v1/ops/dead-letters?limit=N&counts=true`, with the ops user's own token): how many each service
keeps per source topic, and the newest ones with their reasons.

Not the `<topic>.dlq` topics: the memory-only broker loses them on a restart and a real one expires
them; the database copy is the record. Each service answers only its newest `latest` letters (one
page through the primary key), so the view costs the same however many are kept. The letter's value
may hold customer data: only its size is shown. A service that does not answer is named; the others
are still shown.
"""

import asyncio
from dataclasses import dataclass, field
from typing import Any

import httpx

from dashboard.problems import problem_detail


@dataclass(frozen=True, slots=True)
class DeadLetter:
    id: int
    service: str
    source_topic: str
    partition: int
    offset: int
    stage: str
    size: int
    reason: str
    failed_at: str
    replays: int

    @property
    def position(self) -> str:
        return f"[{self.partition}]@{self.offset}"


@dataclass(frozen=True, slots=True)
class DeadLetterReport:
    counts: dict[str, int]
    """`<service>: <source topic>` -> letters kept."""
    latest: list[DeadLetter]
    unavailable: dict[str, str] = field(default_factory=dict)
    """service -> why its letters are missing."""


class DeadLettersUnavailable(Exception):
    """No service answered."""


def _letter(service: str, body: dict[str, Any]) -> DeadLetter:
    return DeadLetter(
        id=int(body["id"]), service=service, source_topic=str(body["source_topic"]),
        partition=int(body["source_partition"]), offset=int(body["source_offset"]), stage=str(body["stage"]),
        size=int(body["size"]), reason=problem_detail(str(body["reason"]), limit=1000),
        failed_at=str(body["failed_at"]), replays=int(body["replays"]),
    )


async def _newest_of(
    client: httpx.AsyncClient, *, service: str, url: str, token: str, latest: int
) -> tuple[dict[str, int], list[DeadLetter]]:
    response = await client.get(
        f"{url}/v1/ops/dead-letters", params={"limit": str(latest), "counts": "true"},
        headers={"Authorization": f"Bearer {token}"},
    )
    if response.status_code != 200:
        raise DeadLettersUnavailable(f"answered {response.status_code}: {problem_detail(response.text)}")
    page = response.json()
    counts = {f"{service}: {topic}": int(count) for topic, count in (page.get("counts") or {}).items()}
    return counts, [_letter(service, body) for body in page["letters"]]


async def read_dead_letters(
    *, client: httpx.AsyncClient, urls: dict[str, str], token: str, latest: int = 20
) -> DeadLetterReport:
    """The `latest` newest letters over every service, newest first, and the counts per service and topic."""
    results = await asyncio.gather(
        *(_newest_of(client, service=service, url=url, token=token, latest=latest) for service, url in urls.items()),
        return_exceptions=True,
    )
    counts: dict[str, int] = {}
    letters: list[DeadLetter] = []
    unavailable: dict[str, str] = {}
    for service, result in zip(urls, results, strict=True):
        if isinstance(result, httpx.HTTPError | DeadLettersUnavailable):
            unavailable[service] = f"{service}: {result!r}" if isinstance(result, httpx.HTTPError) else (
                f"{service} {result}")
        elif isinstance(result, BaseException):
            raise result
        else:
            counts.update(result[0])
            letters += result[1]
    if unavailable and len(unavailable) == len(urls):
        raise DeadLettersUnavailable("; ".join(unavailable.values()))
    letters.sort(key=lambda letter: letter.failed_at, reverse=True)
    return DeadLetterReport(counts=dict(sorted(counts.items())), latest=letters[:latest], unavailable=unavailable)
