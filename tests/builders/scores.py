"""Builders of what tiering consumes: `CustomerScored` (scoring's output) and CRM roster entries."""

import uuid
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

from shared.events.internal import CustomerScored, PolicyContribution

CHINA = timezone(timedelta(hours=8))


def scored(
    customer_id: str,
    *,
    revision: int,
    points: str,
    standard_premium: str = "0.00",
    as_of: date = date(2026, 3, 16),
    trigger: str = "new_business",
) -> CustomerScored:
    return CustomerScored(
        event_id=uuid.uuid4().hex,
        occurred_at=datetime(as_of.year, as_of.month, as_of.day, 10, tzinfo=CHINA),
        correlation_id=f"pas-{uuid.uuid4().hex[:8]}",
        customer_id=customer_id,
        revision=revision,
        as_of=as_of,
        trigger=trigger,
        ruleset_version="individual-2015.1",
        points=Decimal(points),
        standard_premium=Decimal(standard_premium),
        pending_points=Decimal("0.00"),
        serving_channel="agency",
        policies=(
            PolicyContribution(
                policy_no=f"P-{customer_id}",
                channel="agency",
                branch="GD-SZ",
                agent_id="A00412",
                issued_on=as_of - timedelta(days=15),
                points=Decimal(points),
                standard_premium=Decimal(standard_premium),
                state="counted",
                explanation="participating, 10 years: 1 x N",
            ),
        ),
    )


def roster_entry(customer_id: str, *, since: str = "2012-05-01") -> dict[str, Any]:
    return {
        "event_id": uuid.uuid4().hex,
        "event_type": "legacy_vip_imported",
        "occurred_at": "2015-10-01T09:00:00+08:00",
        "customer_id": customer_id,
        "tier": "gold",
        "since": since,
    }
