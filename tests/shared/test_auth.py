"""Tokens: roles, an optional branch scope, a per-token rate limit."""

import pytest

from shared.auth import RateLimiter, TokenFormatError, parse_api_tokens


def test_a_token_may_carry_a_branch() -> None:
    principals = parse_api_tokens("t1=branch_ops@GD-SZ,t2=ops+call_center")
    assert principals["t1"].branch == "GD-SZ"
    assert principals["t1"].acts_for("GD-SZ") and not principals["t1"].acts_for("BJ-01")
    assert principals["t2"].branch is None and principals["t2"].acts_for("BJ-01")


@pytest.mark.parametrize("raw", ["t1=branch_ops@", "t1=branch_ops@GD SZ", "t1=nobody", "t1"])
def test_a_malformed_token_entry_is_refused(raw: str) -> None:
    with pytest.raises(TokenFormatError):
        parse_api_tokens(raw)


def test_the_new_roles_of_the_duties_and_group_program_are_known() -> None:
    principals = parse_api_tokens("t=representative+group_service+branch_group_insurance+hq_group_insurance")
    assert len(principals["t"].roles) == 4


def test_the_rate_limiter_allows_a_burst_then_refuses_until_tokens_come_back() -> None:
    limiter = RateLimiter(rate_per_s=1, burst=3)
    assert [limiter.retry_after_s("u") for _ in range(3)] == [0.0, 0.0, 0.0]
    assert limiter.retry_after_s("u") > 0
    assert limiter.retry_after_s("someone else") == 0.0


def test_a_rate_of_zero_means_no_limit() -> None:
    limiter = RateLimiter(rate_per_s=0, burst=1)
    assert all(limiter.retry_after_s("u") == 0.0 for _ in range(1000))
