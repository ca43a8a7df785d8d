"""Bearer tokens and roles from `VIP_API_TOKENS` (`token=role1+role2,token2=role3@GD-SZ`).

Each token stands for one user; the user's id is a digest of the token, so audit trails can tell
two users apart without ever storing a token. A token may carry a branch after `@`: a branch-scoped
user acts only for that branch (branch contracts, featured services, applications); a token without
one acts for every branch.

Every authenticated request spends from its user's token bucket (`VIP_HTTP_RATE_PER_S`, burst
`VIP_HTTP_RATE_BURST`); beyond it the answer is 429 with `Retry-After`. The principal is left on the
request (`request.state.principal`) for the audit log.
"""

import hashlib
import hmac
import math
import re
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, HTTPException, Request, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

ROLES = frozenset({
    "call_center", "ops", "honorary_applicant", "branch_ops", "branch_gm", "hq_business",
    "hq_customer_service", "hq_executive", "admin",
    "representative", "group_service", "branch_group_insurance", "hq_group_insurance",
})
_BRANCH = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,63}")


@dataclass(frozen=True, slots=True)
class Principal:
    user_id: str
    roles: frozenset[str]
    branch: str | None = None
    """The one branch this user acts for; None: every branch."""

    def acts_for(self, branch: str | None) -> bool:
        return self.branch is None or self.branch == branch


class RateLimiter:
    """A token bucket per user: `rate_per_s` sustained, `burst` at once. `rate_per_s <= 0`: no limit."""

    def __init__(self, *, rate_per_s: float, burst: int) -> None:
        self._rate = rate_per_s
        self._burst = float(max(burst, 1))
        self._buckets: dict[str, tuple[float, float]] = {}

    def retry_after_s(self, user_id: str) -> float:
        """0 when the request may go ahead (and is counted); otherwise seconds until it may."""
        if self._rate <= 0:
            return 0.0
        now = time.monotonic()
        tokens, at = self._buckets.get(user_id, (self._burst, now))
        tokens = min(self._burst, tokens + (now - at) * self._rate)
        if tokens < 1:
            self._buckets[user_id] = (tokens, now)
            return (1 - tokens) / self._rate
        self._buckets[user_id] = (tokens - 1, now)
        return 0.0


class TokenFormatError(ValueError):
    pass


def parse_api_tokens(raw: str) -> dict[str, Principal]:
    principals: dict[str, Principal] = {}
    for position, entry in enumerate(filter(None, (part.strip() for part in raw.split(","))), start=1):
        token, separator, grant = entry.partition("=")
        token = token.strip()
        if not separator or not token:
            raise TokenFormatError(f"VIP_API_TOKENS entry {position}: expected token=role1+role2[@BRANCH]")
        roles_text, at, branch = grant.partition("@")
        branch = branch.strip()
        if at and not _BRANCH.fullmatch(branch):
            raise TokenFormatError(f"VIP_API_TOKENS entry {position}: a branch after @ must be a branch code")
        roles = frozenset(role.strip() for role in roles_text.split("+") if role.strip())
        unknown = sorted(roles - ROLES)
        if unknown or not roles:
            raise TokenFormatError(
                f"VIP_API_TOKENS entry {position}: unknown or missing role(s) {', '.join(unknown) or '(none)'}"
            )
        user_id = "user-" + hashlib.sha256(token.encode()).hexdigest()[:12]
        principals[token] = Principal(user_id=user_id, roles=roles, branch=branch or None)
    return principals


_BEARER = HTTPBearer(
    auto_error=False, scheme_name="bearer", description="a token of VIP_API_TOKENS: `Authorization: Bearer <token>`"
)


def _bearer_token(credentials: HTTPAuthorizationCredentials | None) -> str:
    token = credentials.credentials if credentials is not None else ""
    if not token.strip() or not token.isascii():
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED,
            detail="missing bearer token: send 'Authorization: Bearer <token>'",
            headers={"WWW-Authenticate": "Bearer"},
        )
    return token.strip()


def _principal_for(request: Request, token: str) -> Principal:
    principals: dict[str, Principal] = request.app.state.principals
    for known, principal in principals.items():
        if hmac.compare_digest(known.encode(), token.encode()):
            return principal
    raise HTTPException(
        status.HTTP_401_UNAUTHORIZED, detail="unknown bearer token", headers={"WWW-Authenticate": "Bearer"}
    )


def require_roles(*roles: str) -> Callable[..., Awaitable[Principal]]:
    """A FastAPI dependency: 401 without a valid token, 403 without one of `roles`."""
    wanted = frozenset(roles)
    unknown = wanted - ROLES
    if unknown:
        raise ValueError(f"unknown roles {sorted(unknown)}")

    async def principal(
        request: Request, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_BEARER)]
    ) -> Principal:
        found = _principal_for(request, _bearer_token(credentials))
        request.state.principal = found
        limiter: RateLimiter | None = getattr(request.app.state, "rate_limiter", None)
        wait_s = limiter.retry_after_s(found.user_id) if limiter is not None else 0.0
        if wait_s > 0:
            raise HTTPException(
                status.HTTP_429_TOO_MANY_REQUESTS,
                detail="too many requests for this token; slow down",
                headers={"Retry-After": str(max(1, math.ceil(wait_s)))},
            )
        if not found.roles & wanted:
            raise HTTPException(
                status.HTTP_403_FORBIDDEN, detail=f"this needs the role {' or '.join(sorted(wanted))}"
            )
        return found

    return principal
