"""Everything the dashboard shows, gathered server-side from the services' HTTP APIs (with the ops
user's own token, so each service still decides what the user may see, dead letters included) and
their `/metrics`. A source that fails leaves its panels empty with the reason, never the page."""

import asyncio
import logging
import time
from collections.abc import Awaitable
from dataclasses import asdict
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from dashboard.config import DashboardSettings
from dashboard.dead_letters import DeadLetterReport, DeadLettersUnavailable, read_dead_letters
from dashboard.pipeline import RateHistory, ServiceHealth, parse_service_metrics
from dashboard.problems import problem_detail

log = logging.getLogger(__name__)

COST_WINDOW_DAYS = 365
LATEST_DEAD_LETTERS = 20


class SourceError(Exception):
    """A service or the broker did not answer as expected; the message is shown on the panel."""


class Overview:
    def __init__(self, *, settings: DashboardSettings, client: httpx.AsyncClient) -> None:
        self._settings = settings
        self._urls = settings.service_urls()
        self._client = client
        self._rates = RateHistory()
        self._dead_letters: dict[str, tuple[float, DeadLetterReport]] = {}
        self._dead_letters_lock = asyncio.Lock()

    async def _get(self, service: str, path: str, *, token: str, params: dict[str, str] | None = None) -> Any:
        url = f"{self._urls[service]}{path}"
        try:
            response = await self._client.get(url, params=params, headers={"Authorization": f"Bearer {token}"})
        except httpx.HTTPError as error:
            raise SourceError(f"{service} unreachable: {error!r}") from error
        if response.status_code != 200:
            raise SourceError(f"{service} {path} answered {response.status_code}: {problem_detail(response.text)}")
        return response.json()

    async def _scrape(self, service: str) -> ServiceHealth:
        try:
            response = await self._client.get(f"{self._urls[service]}/metrics")
            response.raise_for_status()
        except httpx.HTTPError as error:
            log.warning("metrics of %s unavailable: %r", service, error)
            return ServiceHealth(service=service, up=False)
        return parse_service_metrics(service, response.text)

    async def _dead_letter_report(self, *, token: str) -> DeadLetterReport:
        """Asked of the services at most every 5 s per user, however many browsers poll."""
        async with self._dead_letters_lock:
            cached = self._dead_letters.get(token)
            if cached is not None and time.monotonic() - cached[0] < 5:
                return cached[1]
            try:
                report = await read_dead_letters(
                    client=self._client, urls=self._urls, token=token, latest=LATEST_DEAD_LETTERS
                )
            except DeadLettersUnavailable as error:
                raise SourceError(f"no service answered: {error}") from error
            self._dead_letters = {token: (time.monotonic(), report)} | {
                known: entry for known, entry in self._dead_letters.items() if time.monotonic() - entry[0] < 5
            }
            return report

    async def build(self, *, token: str) -> dict[str, Any]:
        today = datetime.now(UTC).date()
        costs = {"from": (today - timedelta(days=COST_WINDOW_DAYS)).isoformat(),
                 "to": (today + timedelta(days=1)).isoformat()}
        sources: dict[str, Awaitable[Any]] = {
            "tiers": self._get("tiering", "/v1/ops/tiers", token=token),
            "honorary": self._get("tiering", "/v1/ops/honorary-waiting", token=token),
            "cooling_off": self._get("scoring", "/v1/ops/cooling-off", token=token),
            "representation": self._get("assignment", "/v1/ops/representation", token=token),
            "unassigned": self._get("assignment", "/v1/customers/unassigned", token=token, params={"limit": "20"}),
            "representatives": self._get("assignment", "/v1/representatives", token=token, params={"limit": "15"}),
            "duties": self._get("assignment", "/v1/ops/duties", token=token),
            "usage": self._get("entitlements", "/v1/reports/costs", token=token, params=costs),
            "dead_letters": self._dead_letter_report(token=token),
            "group": self._get("entitlements", "/v1/group-program/overview", token=token),
            "group_movements": self._get(
                "entitlements", "/v1/group-program/movements", token=token, params={"year": str(today.year)}
            ),
            "group_assessment": self._get(
                "entitlements", "/v1/group-program/assessment", token=token,
                params={"year": str(today.year), "quarter": str((today.month - 1) // 3 + 1)},
            ),
        }
        results = await asyncio.gather(*sources.values(), return_exceptions=True)
        health = await asyncio.gather(*(self._scrape(service) for service in self._urls))
        self._rates.record({entry.service: entry.processed for entry in health if entry.up})
        overview: dict[str, Any] = {"generated_at": datetime.now(UTC).isoformat(timespec="seconds"), "errors": {}}
        for name, result in zip(sources, results, strict=True):
            if isinstance(result, SourceError):
                overview["errors"][name] = str(result)
                overview[name] = None
            elif isinstance(result, BaseException):
                raise result
            elif isinstance(result, DeadLetterReport):
                latest = [asdict(letter) | {"position": letter.position} for letter in result.latest]
                overview[name] = {"counts": result.counts, "total": sum(result.counts.values()), "latest": latest}
                if result.unavailable:
                    overview["errors"][name] = "; ".join(result.unavailable.values())
            else:
                overview[name] = result
        overview["pipeline"] = {"services": [entry.as_json() for entry in health], "rates": self._rates.rates()}
        return overview
