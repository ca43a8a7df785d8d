"""Builders of the group program's upstream events: the CRM's client events, group policies,
what scoring publishes (`GroupClientScored`) and entitlements reports (`GroupFeedbackReported`).
Sensible defaults; override what the test is about."""

import uuid
from typing import Any

from tests.builders.policies import policy_event


def group_client_upserted(
    *, client_id: str, branch: str = "GD-SZ", client_since: str = "2018-03-01", name: str = "Shenzhen Widgets Ltd",
    industry: str = "manufacturing", occurred_at: str = "2026-10-08T10:00:00+08:00", event_id: str | None = None,
) -> dict[str, Any]:
    return {
        "event_id": event_id or uuid.uuid4().hex, "event_type": "group_client_upserted", "occurred_at": occurred_at,
        "client": {"client_id": client_id, "name": name, "industry": industry, "branch": branch,
                   "client_since": client_since},
    }


def group_experience_reported(
    *, client_id: str, period_start: str = "2026-07-01", period_end: str = "2026-09-30",
    earned_premium: str = "100000.00", incurred_claims: str = "30000.00",
    occurred_at: str = "2026-10-08T10:00:00+08:00", event_id: str | None = None,
) -> dict[str, Any]:
    return {
        "event_id": event_id or uuid.uuid4().hex, "event_type": "group_experience_reported",
        "occurred_at": occurred_at, "client_id": client_id, "period_start": period_start, "period_end": period_end,
        "earned_premium": earned_premium, "incurred_claims": incurred_claims,
    }


def group_policy_event(*, policy_no: str, client_id: str, **fields: Any) -> dict[str, Any]:
    """A group-channel policy held by the client: 5-year annual traditional, 100,000.00 a year (factor 1.0)."""
    defaults: dict[str, Any] = {"channel": "group", "product_type": "traditional", "payment_term_years": 5,
                                "modal_premium": "100000.00", "agent_id": None}
    return policy_event(policy_no=policy_no, holder_id=client_id, **(defaults | fields))


def quarters(*figures: tuple[str, str], last_end: str = "2026-09-30") -> list[tuple[str, str, str, str]]:
    """(start, end, earned, incurred) for consecutive calendar quarters ending at `last_end`, newest first."""
    ends = ["2026-09-30", "2026-06-30", "2026-03-31", "2025-12-31", "2025-09-30", "2025-06-30"]
    starts = ["2026-07-01", "2026-04-01", "2026-01-01", "2025-10-01", "2025-07-01", "2025-04-01"]
    first = ends.index(last_end)
    return [(starts[first + n], ends[first + n], earned, incurred) for n, (earned, incurred) in enumerate(figures)]


def group_client_scored(
    *, client_id: str, revision: int = 1, annual_standard_premium: str = "1000000.00", in_force_policies: int = 3,
    client_since: str | None = "2020-01-01", branch: str = "GD-SZ", as_of: str = "2026-10-08",
    experience: list[tuple[str, str, str, str]] | None = None, event_id: str | None = None,
) -> dict[str, Any]:
    """A `vip.group-clients.v1` message as scoring publishes it; `experience` as (start, end, earned, incurred)."""
    profile = None if client_since is None else {
        "client_id": client_id, "name": "Shenzhen Widgets Ltd", "industry": "manufacturing", "branch": branch,
        "client_since": client_since,
    }
    return {
        "event_id": event_id or uuid.uuid4().hex, "occurred_at": f"{as_of}T10:00:00+08:00",
        "correlation_id": uuid.uuid4().hex, "client_id": client_id, "revision": revision,
        "event_type": "group_client_scored", "as_of": as_of, "trigger": "group_client_upserted",
        "ruleset_version": "group-example.1", "profile": profile, "annual_standard_premium": annual_standard_premium,
        "in_force_policies": in_force_policies,
        "experience": [
            {"period_start": start, "period_end": end, "earned_premium": earned, "incurred_claims": incurred}
            for start, end, earned, incurred in (experience or [])
        ],
    }


def group_feedback_reported(
    *, client_id: str, revision: int = 1, complaints: int = 0, survey_average: str | None = None,
    as_of: str = "2026-12-01",
) -> dict[str, Any]:
    return {
        "event_id": uuid.uuid4().hex, "occurred_at": f"{as_of}T10:00:00+08:00", "correlation_id": uuid.uuid4().hex,
        "client_id": client_id, "revision": revision, "event_type": "group_feedback_reported", "as_of": as_of,
        "verified_complaints_12_months": complaints, "last_survey_average": survey_average,
        "last_survey_on": as_of if survey_average else None,
    }
