"""Builders of `pas.policy-events` messages: sensible defaults, override what the test is about."""

import uuid
from typing import Any


def policy_event(
    *, policy_no: str, holder_id: str, event_type: str = "new_business", version: int = 1,
    occurred_at: str = "2026-10-08T10:00:00+08:00", previous_holder_id: str | None = None,
    event_id: str | None = None, **policy: Any,
) -> dict[str, Any]:
    """A `pas.policy-events` message with sensible defaults: a 10-year annual participating policy."""
    state = {
        "policy_no": policy_no, "version": version, "holder_id": holder_id, "channel": "agency",
        "branch": "GD-SZ", "agent_id": "A00412", "status": "in_force", "issued_on": "2026-09-01",
        "cooling_off_ends_on": "2026-09-16", "product_type": "participating", "payment_term_years": 10,
        "payment_mode": "annual", "modal_premium": "36000.00", "account_value": "0.00",
        "annuity_converted_premium": "0.00", "premium_waived": False, "paid_up": False,
        "loan_outstanding": "0.00",
    }
    state.update(policy)
    return {
        "event_id": event_id or uuid.uuid4().hex, "event_type": event_type, "occurred_at": occurred_at,
        "previous_holder_id": previous_holder_id, "policy": state,
    }
