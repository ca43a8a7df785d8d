"""The one way a business rule says no: a `Refused` family, raised by rules and workflows alike.

Each refusal carries a machine-readable `reason` (a short snake_case code a client can branch on)
and a human `detail` (a sentence naming what is wrong). The shared app factory turns every refusal
into one HTTP answer shape (`shared.problems`); nothing else in a service builds an error body.
Pure: no framework import, so domain modules may raise these too.
"""

from typing import ClassVar


class Refused(Exception):
    """A request the rules refuse. Subclasses fix the HTTP status; never raised bare."""

    status: ClassVar[int] = 400
    title: ClassVar[str] = "refused"

    def __init__(self, detail: str, *, reason: str | None = None, keep_effects: bool = False) -> None:
        super().__init__(detail)
        self.detail = detail
        self.reason = reason or self.default_reason
        self.keep_effects = keep_effects
        """Commit what the unit of work did before refusing (e.g. the refusal remembered under an
        Idempotency-Key, so a retry answers the same); by default a refusal rolls everything back."""

    default_reason: ClassVar[str] = "refused"


class NotFound(Refused):
    status = 404
    title = "not found"
    default_reason = "not_found"


class Forbidden(Refused):
    status = 403
    title = "forbidden"
    default_reason = "forbidden"


class Conflict(Refused):
    status = 409
    title = "conflict"
    default_reason = "conflict"


class Invalid(Refused):
    status = 422
    title = "invalid request"
    default_reason = "invalid"
