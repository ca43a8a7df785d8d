"""The dead-letter panel reads the services' own durable letters (`GET /v1/ops/dead-letters`), not the
broker: the newest page of each service (however many are kept), the counts per service and source
topic, newest first over all services, the user's own token, and a service that does not answer named
without hiding the others."""

import httpx
import pytest

from dashboard.dead_letters import DeadLetterReport, DeadLettersUnavailable, read_dead_letters

URLS = {"scoring": "http://scoring:1", "tiering": "http://tiering:2"}


def _letter(letter_id: int, *, second: int, reason: str = "poison: unknown event type") -> dict[str, object]:
    return {"id": letter_id, "stage": "decode", "source_topic": "pas.policy-events", "source_partition": 5,
            "source_offset": 700 + letter_id, "reason": reason, "failed_at": f"2026-12-01T08:00:{second:02d}+00:00",
            "size": 600_000, "replays": 0, "last_replayed_at": None}


class _Services:
    def __init__(self, pages: dict[str, httpx.Response]) -> None:
        self.pages = pages
        self.seen: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.seen.append(request)
        return self.pages[request.url.host]


async def _read(pages: dict[str, httpx.Response], *, latest: int = 20) -> tuple[DeadLetterReport, _Services]:
    services = _Services(pages)
    async with httpx.AsyncClient(transport=httpx.MockTransport(services)) as client:
        report = await read_dead_letters(client=client, urls=URLS, token="t-ops", latest=latest)
    return report, services


async def test_ten_thousand_letters_kept_cost_one_page_per_service_newest_first() -> None:
    scoring = httpx.Response(200, json={"letters": [_letter(i, second=i % 60) for i in range(10_000, 9_980, -1)],
                                        "next_before_id": 9_981, "counts": {"pas.policy-events": 10_000}})
    tiering = httpx.Response(200, json={"letters": [_letter(1, second=59, reason="late")], "next_before_id": None,
                                        "counts": {"vip.customer-scores.v1": 1}})
    report, services = await _read({"scoring": scoring, "tiering": tiering})
    assert len(services.seen) == 2
    assert all(r.url.params["limit"] == "20" and r.url.params["counts"] == "true" for r in services.seen)
    assert all(r.headers["authorization"] == "Bearer t-ops" for r in services.seen)
    assert report.counts == {"scoring: pas.policy-events": 10_000, "tiering: vip.customer-scores.v1": 1}
    latest = report.latest
    assert len(latest) == 20 and latest[0].service == "tiering" and latest[0].reason == "late"
    assert [letter.failed_at for letter in latest] == sorted((letter.failed_at for letter in latest), reverse=True)
    assert latest[1].position.startswith("[5]@") and latest[1].size == 600_000


async def test_a_service_that_does_not_answer_is_named_and_the_others_still_shown() -> None:
    ok = httpx.Response(200, json={"letters": [_letter(1, second=1)], "next_before_id": None,
                                   "counts": {"pas.policy-events": 1}})
    refused = httpx.Response(503, json={"detail": "the service's database is unavailable; try again shortly"})
    report, _ = await _read({"scoring": ok, "tiering": refused})
    assert [letter.id for letter in report.latest] == [1]
    assert "database is unavailable" in report.unavailable["tiering"]
    with pytest.raises(DeadLettersUnavailable):
        await _read({"scoring": refused, "tiering": refused})


async def test_a_reason_written_as_a_problem_body_is_shown_by_its_sentence() -> None:
    problem = '{"type":"about:blank","title":"invalid","status":422,"detail":"unknown tier X","reason":"invalid"}'
    page = httpx.Response(200, json={"letters": [_letter(1, second=1, reason=problem)], "next_before_id": None,
                                     "counts": {"pas.policy-events": 1}})
    empty = httpx.Response(200, json={"letters": [], "next_before_id": None, "counts": {}})
    report, _ = await _read({"scoring": page, "tiering": empty})
    assert report.latest[0].reason == "unknown tier X (invalid)"
