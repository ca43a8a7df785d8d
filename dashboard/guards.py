"""What the dashboard does before it trusts a request: unsafe methods only from its own pages, login
attempts counted per client address, and a login body read no further than a small cap.

The cookie is SameSite=Strict already; the origin check is the second line, for browsers or proxies
that drop the attribute, and it holds for every unsafe route added later because it is middleware.
"""

import ipaddress
import time
from collections import OrderedDict, deque
from collections.abc import Callable
from urllib.parse import urlsplit

from starlette.datastructures import Headers
from starlette.requests import Request
from starlette.types import ASGIApp, Receive, Scope, Send

from dashboard.problems import problem

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def is_loopback(host: str) -> bool:
    """Bound to this machine only: `localhost` or a loopback address (`0.0.0.0` is every interface)."""
    if host.strip("[]").lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def cross_site_refusal(headers: Headers) -> str | None:
    """Why an unsafe request is refused as cross-site, or None to let it through.

    `Sec-Fetch-Site` is set by the browser and cannot be forged by a page; without it, `Origin` must
    name the host the request was sent to. A request with neither comes from no browser (curl, a
    script), which carries no cookie of ours on its own and is not what this check is about.
    """
    fetch_site = headers.get("sec-fetch-site")
    if fetch_site is not None:
        return None if fetch_site == "same-origin" else f"a {fetch_site} request (Sec-Fetch-Site)"
    origin = headers.get("origin")
    if origin is None:
        return None
    host = headers.get("host", "").lower()
    if origin == "null" or not host or urlsplit(origin).netloc.lower() != host:
        return f"a request from origin {origin[:100]!r} to host {host[:100]!r}"
    return None


class SameOriginWrites:
    """ASGI middleware: every unsafe method (POST, PUT, PATCH, DELETE) from another site answers 403."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] not in SAFE_METHODS:
            refusal = cross_site_refusal(Headers(scope=scope))
            if refusal is not None:
                response = problem(status=403, title="forbidden", reason="cross_site",
                                   detail=f"cross-site request refused: {refusal}")
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)


class AttemptLimiter:
    """At most `per_window` attempts per client in any `window_s`; refused attempts do not count.

    Memory is bounded: at most `max_clients` addresses are remembered, the least recently seen
    forgotten first (which only ever helps the client forgotten).
    """

    def __init__(
        self, *, per_window: int, window_s: float = 60.0, max_clients: int = 10_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._per_window = per_window
        self._window_s = window_s
        self._max_clients = max_clients
        self._clock = clock
        self._attempts: OrderedDict[str, deque[float]] = OrderedDict()

    def retry_after(self, client: str) -> float | None:
        """Record an attempt and return None, or return the seconds until the client may try again."""
        now = self._clock()
        attempts = self._attempts.pop(client, None) or deque()
        while attempts and attempts[0] <= now - self._window_s:
            attempts.popleft()
        self._attempts[client] = attempts  # now the most recently seen
        if len(attempts) >= self._per_window:
            return attempts[0] + self._window_s - now
        attempts.append(now)
        while len(self._attempts) > self._max_clients:
            self._attempts.popitem(last=False)
        return None


class BodyTooLarge(Exception):
    pass


async def read_capped_body(request: Request, *, limit: int) -> bytes:
    """The body, read chunk by chunk as it arrives and abandoned as soon as it passes `limit` bytes:
    a client that sends megabytes costs one chunk of memory, not the whole body."""
    declared = request.headers.get("content-length")
    if declared is not None and (not declared.isdigit() or int(declared) > limit):
        raise BodyTooLarge(declared)
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            raise BodyTooLarge(f"more than {limit} bytes")
    return bytes(body)
