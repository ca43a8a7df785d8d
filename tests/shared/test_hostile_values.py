"""Hostile values are refused at the contract, with a short reason naming the field."""

import json
from typing import Any

import pytest
from pydantic import ValidationError

from shared.dead_letters import REASON_LIMIT, Rejected, sanitized
from shared.events.inbound import POLICY_EVENT_ADAPTER
from tests.builders.policies import policy_event


def _decode(**policy: Any) -> str:
    message = policy_event(policy_no="P1", holder_id="C1", **policy)
    try:
        POLICY_EVENT_ADAPTER.validate_json(json.dumps(message), strict=True)
    except ValidationError as error:
        return "; ".join(f"{'.'.join(map(str, d['loc']))}: {d['msg']}" for d in error.errors())
    return "accepted"


@pytest.mark.parametrize(
    "value",
    ["1E+50000000", "9" * 5000, "x" * 600_000, "1234567890123456.00", "1.001", "NaN", "Infinity", "-0.5"],
)
def test_money_out_of_bounds_is_refused_at_decode_with_a_short_reason(value: str) -> None:
    reason = _decode(modal_premium=value)
    assert reason.startswith("policy.modal_premium:")
    assert len(reason) < 300


@pytest.mark.parametrize("value", ["0.00", "36000.00", "999999999999999.99", "7", "0.5"])
def test_money_within_bounds_is_accepted(value: str) -> None:
    assert _decode(modal_premium=value) == "accepted"


@pytest.mark.parametrize(("version", "accepted"), [(2_147_483_647, True), (2_147_483_648, False), (0, False)])
def test_a_version_must_fit_its_column(version: int, accepted: bool) -> None:
    reason = _decode(version=version)
    assert (reason == "accepted") is accepted
    if not accepted:
        assert reason.startswith("policy.version:")


def test_a_reason_is_one_line_and_capped() -> None:
    hostile = "bad\nvalue\r\n" + "y" * 600_000
    reason = sanitized(hostile)
    assert "\n" not in reason and "\r" not in reason
    assert len(reason) <= REASON_LIMIT
    letter = Rejected("t", 0, 1, None, b"", hostile, "decode")
    assert letter.reason == reason
