"""Bearer tokens and roles from `VIP_API_TOKENS` (`token=role1+role2,token2=role3`).

Each token stands for one user; the user's id is a digest of the token, so audit trails can tell
two users apart without ever storing a token.
"""

import hashlib
import hmac
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from fastapi import HTTPException, Request, status

ROLES = frozenset({
    "call_center", "ops", "honorary_applicant", "branch_ops", "branch_gm", "hq_business",
    "hq_customer_service", "hq_executive", "admin",
})


@dataclass(frozen=True, slots=True)
class Principal:
    user_id: str
    roles: frozenset[str]


class TokenFormatError(ValueError):
    pass


def parse_api_tokens(raw: str) -> dict[str, Principal]:
    principals: dict[str, Principal] = {}
    for position, entry in enumerate(filter(None, (part.strip() for part in raw.split(","))), start=1):
        token, separator, roles_text = entry.partition("=")
        token = token.strip()
        if not separator or not token:
            raise TokenFormatError(f"VIP_API_TOKENS entry {position}: expected token=role1+role2")
        roles = frozenset(role.strip() for role in roles_text.split("+") if role.strip())
        unknown = sorted(roles - ROLES)
        if unknown or not roles:
            raise TokenFormatError(
                f"VIP_API_TOKENS entry {position}: unknown or missing role(s) {', '.join(unknown) or '(none)'}"
            )
        user_id = "user-" + hashlib.sha256(token.encode()).hexdigest()[:12]
        principals[token] = Principal(user_id=user_id, roles=roles)
    return principals


def _bearer_token(request: Request) -> str:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
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


def require_roles(*roles: str) -> Callable[[Request], Awaitable[Principal]]:
    """A FastAPI dependency: 401 without a valid token, 403 without one of `roles`."""
    wanted = frozenset(roles)
    unknown = wanted - ROLES
    if unknown:
        raise ValueError(f"unknown roles {sorted(unknown)}")

    async def principal(request: Request) -> Principal:
        found = _principal_for(request, _bearer_token(request))
        if not found.roles & wanted:
            raise HTTPException(
                status.HTTP_403_FORBIDDEN, detail=f"this needs the role {' or '.join(sorted(wanted))}"
            )
        return found

    return principal
