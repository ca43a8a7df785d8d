"""The services' error body (RFC 9457 problem details), as the dashboard answers and reads it: what
it refuses itself looks like the services' refusals, and what they refuse is shown by its sentence."""

import json

from starlette.responses import JSONResponse

PROBLEM_MEDIA_TYPE = "application/problem+json"


def problem(
    *, status: int, title: str, detail: str, reason: str, headers: dict[str, str] | None = None
) -> JSONResponse:
    """The services' error body (RFC 9457), so a script reading either reads both."""
    body = {"type": "about:blank", "title": title, "status": status, "detail": detail, "reason": reason}
    return JSONResponse(body, status_code=status, headers=headers, media_type=PROBLEM_MEDIA_TYPE)


def problem_detail(text: str, *, limit: int = 300) -> str:
    """The sentence of an RFC 9457 body (`detail`, with its `reason` code), else the text itself, cut
    to `limit`: an error answer or a dead letter's reason reads the same whichever it is."""
    body: object = None
    if text.lstrip().startswith("{"):
        try:
            body = json.loads(text)
        except ValueError:
            body = None
    if isinstance(body, dict) and isinstance(body.get("detail"), str) and body["detail"]:
        reason = body.get("reason")
        suffix = f" ({reason})" if isinstance(reason, str) and reason else ""
        return f"{body['detail'][:limit]}{suffix}"
    return text[:limit]
