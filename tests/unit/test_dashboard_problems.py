"""Error answers of the services (RFC 9457 problem bodies) are shown on the dashboard by their
sentence, whatever else the body holds; anything else is shown as it came, cut short."""

import httpx
import pytest

from dashboard.config import DashboardSettings
from dashboard.overview import Overview
from dashboard.problems import problem_detail


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ('{"type":"about:blank","title":"forbidden","status":403,"detail":"role ops required","reason":"forbidden"}',
         "role ops required (forbidden)"),
        ('{"detail": "no reason code"}', "no reason code"),
        ('{"detail": ["a", "list"]}', '{"detail": ["a", "list"]}'),
        ('{"detail": ', '{"detail": '),
        ("plain text", "plain text"),
        ("x" * 1000, "x" * 300),
    ],
)
def test_problem_detail(text: str, shown: str) -> None:
    assert problem_detail(text) == shown


async def test_a_refusing_service_is_shown_by_its_detail_on_the_panel() -> None:
    def tiering(request: httpx.Request) -> httpx.Response:
        body = {"type": "about:blank", "title": "forbidden", "status": 403, "reason": "forbidden",
                "detail": "this token does not hold the role ops"}
        return httpx.Response(403, json=body, headers={"content-type": "application/problem+json"})

    settings = DashboardSettings(kafka_bootstrap_servers="127.0.0.1:9")
    async with httpx.AsyncClient(transport=httpx.MockTransport(tiering)) as client:
        overview = await Overview(settings=settings, client=client).build(token="t")
    assert overview["errors"]["tiers"] == (
        "tiering /v1/ops/tiers answered 403: this token does not hold the role ops (forbidden)"
    )
    assert overview["tiers"] is None
