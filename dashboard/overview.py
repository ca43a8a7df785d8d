"""Everything the dashboard shows, gathered server-side from the services' HTTP APIs (with the ops
user's own token, so each service still decides what the user may see), their `/metrics` and the
dead-letter topics. A source that fails leaves its panels empty with the reason, never the page."""

import asyncio
import logging
import time
from collections.abc import Awaitable
from dataclasses import asdict
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from dashboard.config import DashboardSettings
from dashboard.dead_letters import DeadLetterReport, read_dead_letters
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
        self._dead_letters: tuple[float, DeadLetterReport] | None = None
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

    async def _dead_letter_report(self) -> DeadLetterReport:
        """Read from the broker at most every 5 s, however many browsers poll."""
        async with self._dead_letters_lock:
            cached = self._dead_letters
            if cached is not None and time.monotonic() - cached[0] < 5:
                return cached[1]
            try:
                report = await read_dead_letters(
                    bootstrap_servers=self._settings.kafka_bootstrap_servers, latest=LATEST_DEAD_LETTERS
                )
            except Exception as error:
                raise SourceError(f"broker {self._settings.kafka_bootstrap_servers}: {error!r}") from error
            self._dead_letters = (time.monotonic(), report)
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
            "dead_letters": self._dead_letter_report(),
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
                overview[name] = {"counts": result.counts, "total": sum(result.counts.values()),
                                  "latest": [asdict(letter) for letter in result.latest]}
            else:
                overview[name] = result
        overview["pipeline"] = {"services": [entry.as_json() for entry in health], "rates": self._rates.rates()}
        return overview
