"""Dashboard sessions: a token typed into the login form is kept server-side; the browser holds only
a random session id in an HttpOnly, SameSite=Strict cookie, so the token is never in a URL, in page
script or in browser storage."""

import secrets
import time
from dataclasses import dataclass

from shared.auth import Principal, parse_api_tokens

COOKIE = "vip_dashboard_session"
ROLE = "ops"
"""The operations overview's role."""
CUSTOMER_PAGE_ROLES = frozenset({"ops", "call_center"})
"""The roles that open a session: `ops` sees every page, `call_center` the customer page only (each
page checks its own role; the services check theirs again on every call, with the user's own token)."""


@dataclass(frozen=True, slots=True)
class Session:
    token: str
    principal: Principal
    expires_at: float


class LoginRefused(Exception):
    """One refusal for an unknown token and for a token without the role: which it was is not said,
    so the form cannot be used to find out whether a guessed token exists."""

    def __init__(self) -> None:
        super().__init__("this token does not open the dashboard")


class Sessions:
    def __init__(self, *, api_tokens: str, lifetime_s: float) -> None:
        self._principals = parse_api_tokens(api_tokens)
        self._lifetime_s = lifetime_s
        self._sessions: dict[str, Session] = {}

    def open(self, token: str) -> str:
        """A new session id for a known token holding `ops` or `call_center`.

        Compared as UTF-8 bytes: `compare_digest` refuses non-ASCII text, and a form may send any.
        """
        typed = token.encode("utf-8", errors="surrogatepass")
        principal = next(
            (known for known_token, known in self._principals.items()
             if secrets.compare_digest(known_token.encode(), typed)),
            None,
        )
        if principal is None or not CUSTOMER_PAGE_ROLES & set(principal.roles):
            raise LoginRefused
        self._forget_expired()
        session_id = secrets.token_urlsafe(32)
        self._sessions[session_id] = Session(token, principal, time.monotonic() + self._lifetime_s)
        return session_id

    def get(self, session_id: str | None) -> Session | None:
        session = self._sessions.get(session_id) if session_id else None
        if session is None or session.expires_at < time.monotonic():
            return None
        return session

    def close(self, session_id: str | None) -> None:
        if session_id:
            self._sessions.pop(session_id, None)

    def _forget_expired(self) -> None:
        now = time.monotonic()
        for session_id in [key for key, session in self._sessions.items() if session.expires_at < now]:
            del self._sessions[session_id]
