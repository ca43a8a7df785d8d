"""The customer page (issue 16 item 4): one customer as the call center sees them, gathered from the
services' HTTP APIs with the user's own token, so every service still decides what the user may see
and do; the dashboard never reads a database.

- `GET /api/customers/{id}[?as_of=D]`: the standing (entitlements, as of D when given), the tier's
  explanation (scoring's points per policy, the ruleset's thresholds for the standard, tiering's
  decisions with their ruleset version), the representative (assignment) and their history
  (assignment's for `ops`, else the changes entitlements recorded, `GET /v1/customers/{id}/history`),
  the entitlements with quotas, uses and the period, the redemptions with vendor and cost, and the
  representative's duties once assignment answers `GET /v1/customers/{id}/work-items`. A source that
  fails or refuses is named in `errors` and leaves its section empty, never the page.
- `POST .../entitlements/{code}/redemptions` and `POST .../redemptions/{id}/reversal` are forwarded
  as they are (with the user's token and the page's `Idempotency-Key`): the entitlements service
  applies its own rules (eligibility, quota, another user than the redeemer, a reason) and its
  answer, refusals included, comes back unchanged. The app's same-origin check guards both.
"""

import asyncio
import re
import uuid
from collections.abc import Awaitable
from datetime import date
from typing import Any

import httpx
from fastapi import Response

from dashboard.problems import problem, problem_detail
from shared.ruleset import Ruleset

PAGE_ROLES = frozenset({"ops", "call_center"})
_QUIET = {
    ("work_items", 404),  # not built yet: the duties section stays hidden until assignment answers
    ("representative_history", 403),  # ops only: the page shows entitlements' recorded history instead
}
_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$")
_KEY = re.compile(r"^[A-Za-z0-9._:-]{1,200}$")


class SourceRefused(Exception):
    def __init__(self, status: int, detail: str) -> None:
        super().__init__(detail)
        self.status = status


def checked_id(value: str, *, what: str) -> str | None:
    """`value` when it is an identifier the services accept, else None (the caller answers 422)."""
    return value if _ID.match(value) else None


def refused_input(what: str) -> Response:
    return problem(status=422, title="invalid", reason=f"invalid_{what}", detail=f"the {what} is not valid")


def not_allowed() -> Response:
    return problem(status=403, title="forbidden", reason="role_required",
                   detail="the customer page needs the role call_center or ops")


class CustomerPage:
    def __init__(self, *, urls: dict[str, str], client: httpx.AsyncClient, ruleset: Ruleset) -> None:
        self._urls = urls
        self._client = client
        self._ruleset = ruleset

    async def _get(self, service: str, path: str, *, token: str, params: dict[str, str] | None = None) -> Any:
        try:
            response = await self._client.get(
                f"{self._urls[service]}{path}", params=params, headers={"Authorization": f"Bearer {token}"}
            )
        except httpx.HTTPError as error:
            raise SourceRefused(503, f"{service} unreachable: {type(error).__name__}") from error
        if response.status_code != 200:
            raise SourceRefused(response.status_code, f"{service}: {problem_detail(response.text)}")
        return response.json()

    def _thresholds(self) -> dict[str, dict[str, str]]:
        return {
            standard.value: {tier: f"{getattr(limits, tier)}" for tier in ("gold", "platinum", "diamond")}
            for standard, limits in self._ruleset.thresholds.items()
        }

    async def build(self, customer_id: str, *, token: str, as_of: date | None) -> tuple[int, dict[str, Any]]:
        """The page's data; 404 (with the service's sentence) when the customer is not known (on D)."""
        day = {"as_of": as_of.isoformat()} if as_of else None
        path = f"/v1/customers/{customer_id}"
        sources: dict[str, Awaitable[Any]] = {
            "customer": self._get("entitlements", path, token=token, params=day),
            "entitlements": self._get("entitlements", f"{path}/entitlements", token=token, params=day),
            "redemptions": self._get("entitlements", f"{path}/redemptions", token=token),
            "points": self._get("scoring", f"{path}/points", token=token),
            "tier_history": self._get("tiering", f"{path}/tier-history", token=token),
            "representative": self._get("assignment", f"{path}/representative", token=token),
            "representative_history": self._get("assignment", f"{path}/representative-history", token=token),
            "work_items": self._get("assignment", f"{path}/work-items", token=token),
            "history": self._get("entitlements", f"{path}/history", token=token),
        }
        results = await asyncio.gather(*sources.values(), return_exceptions=True)
        page: dict[str, Any] = {
            "customer_id": customer_id, "as_of": as_of.isoformat() if as_of else None, "errors": {},
            "ruleset": {"version": self._ruleset.version, "thresholds": self._thresholds()},
        }
        for name, result in zip(sources, results, strict=True):
            if isinstance(result, SourceRefused):
                page[name] = None
                if (name, result.status) not in _QUIET:
                    page["errors"][name] = str(result)
            elif isinstance(result, BaseException):
                raise result
            else:
                page[name] = result
        customer_refusal = results[0]
        if isinstance(customer_refusal, SourceRefused) and customer_refusal.status in (404, 422):
            return customer_refusal.status, {"detail": str(customer_refusal), "errors": page["errors"]}
        return 200, page

    async def forward(self, path: str, *, token: str, body: bytes, idempotency_key: str | None) -> Response:
        """A POST to entitlements, answered with the service's own status and body."""
        headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
        if idempotency_key is not None:
            headers["Idempotency-Key"] = idempotency_key
        try:
            answer = await self._client.post(f"{self._urls['entitlements']}{path}", content=body, headers=headers)
        except httpx.HTTPError as error:
            return problem(status=503, title="unavailable", reason="source_unavailable",
                           detail=f"entitlements unreachable: {type(error).__name__}")
        return Response(answer.content, status_code=answer.status_code,
                        media_type=answer.headers.get("content-type", "application/json"))


def idempotency_key_of(header: str | None) -> str | None:
    """The page's key (one per click, so a retried click takes no second unit), or a fresh one."""
    if header is None:
        return uuid.uuid4().hex
    return header if _KEY.match(header) else None
