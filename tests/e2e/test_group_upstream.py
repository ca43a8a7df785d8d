"""The group program's upstream half through the public interfaces of a running platform (`vip up`):
group policies and CRM client events in (`pas.policy-events`, `crm.customer-events`); the evaluation,
the quarter-end daily run and designations over tiering's HTTP API; what tiering decided read back
from `vip.group-levels.v1`; the individual program's answers from entitlements and scoring.

The platform runs with `VIP_ALLOW_FUTURE_DAILY_RUN=true`: the quarter-end scenario runs 2026-12-31.
"""

import asyncio
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from shared.topics import CUSTOMER_EVENTS, GROUP_LEVELS, POLICY_EVENTS
from tests.builders.group_clients import group_client_upserted, group_experience_reported, group_policy_event
from tests.builders.policies import policy_event
from tests.e2e.platform import Platform, eventually, running_platform
from tests.support import publish, read_topic

SUFFIX = uuid.uuid4().hex[:8]
OPS, FILER, BRANCH, GM, HQ = (f"group-{name}-{SUFFIX}" for name in ("ops", "filer", "branch", "gm", "hq"))
TOKENS = ",".join([
    f"{OPS}=ops+call_center+admin", f"{FILER}=branch_group_insurance", f"{BRANCH}=branch_group_insurance",
    f"{GM}=branch_gm", f"{HQ}=hq_group_insurance",
])

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def platform(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Platform]:
    with running_platform(
        tmp_path_factory.mktemp("vip-up-group-upstream"), tokens=TOKENS, env={"VIP_ALLOW_FUTURE_DAILY_RUN": "true"}
    ) as up:
        yield up


def _headers(token: str = OPS) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _client_id() -> str:
    return f"K{uuid.uuid4().hex[:8].upper()}"


def _send(platform: Platform, topic: str, *messages: tuple[str, dict[str, Any]]) -> None:
    asyncio.run(publish(platform.bootstrap_servers, topic, list(messages)))


def _new_client(platform: Platform, client: str, *, premium: str, client_since: str = "2020-01-01") -> None:
    """A client described by the CRM with one 5-year traditional group policy (standard premium = premium)."""
    _send(platform, CUSTOMER_EVENTS, (client, group_client_upserted(client_id=client, client_since=client_since)))
    policy = group_policy_event(policy_no=f"{client}-1", client_id=client, modal_premium=premium)
    _send(platform, POLICY_EVENTS, (policy["policy"]["policy_no"], policy))


def _levels(platform: Platform, client: str) -> list[dict[str, Any]]:
    records = asyncio.run(read_topic(platform.bootstrap_servers, GROUP_LEVELS, expect=100_000, timeout_s=1))
    return [record.json() for record in records if record.key == client.encode()]


def _level_where(platform: Platform, client: str, **expected: Any) -> dict[str, Any]:
    def matches() -> dict[str, Any] | None:
        levels = _levels(platform, client)
        last = levels[-1] if levels else None
        return last if last and all(last[key] == value for key, value in expected.items()) else None

    return dict(eventually(f"{client} decided {expected}", matches, timeout_s=60))


def _evaluate(platform: Platform, client: str, as_of: str) -> httpx.Response:
    return httpx.post(
        f"{platform.tiering}/v1/group-clients/{client}/evaluations", json={"as_of": as_of}, headers=_headers(),
        timeout=10,
    )


def test_group_upstream_a_clients_score_and_level_from_the_tables(platform: Platform) -> None:
    client = _client_id()
    _send(platform, CUSTOMER_EVENTS, (client, group_experience_reported(client_id=client, incurred_claims="30000.00")))
    _new_client(platform, client, premium="1000000.00")
    _level_where(platform, client, branch="GD-SZ", level=None)

    def evaluated() -> dict[str, Any] | None:
        answer = _evaluate(platform, client, "2026-11-30")
        return answer.json() if answer.status_code == 200 and answer.json()["inputs"]["quarters_used"] else None

    body = eventually("an evaluation with the client's book and experience", evaluated, timeout_s=60)
    # 1,000,000 standard premium: scale 1.2; 6 whole years: loyalty 1.1; loss ratio 0.3: profit 1.2
    assert (body["score"], body["level"], body["effective_level"]) == ("1.5840", "level_2", "level_2")
    assert body["coefficients"] == {"scale": "1.2000", "loyalty": "1.1000", "profit": "1.2000"}
    assert body["inputs"]["annual_standard_premium"] == "1000000.00"
    assert body["ruleset_version"] == "group-example.1"
    _level_where(platform, client, level="level_2", score="1.5840", trigger="on_demand")


def test_group_upstream_a_quarter_end_evaluation_moves_a_client(platform: Platform) -> None:
    client = _client_id()
    _new_client(platform, client, premium="200000.00")
    _level_where(platform, client, level=None, branch="GD-SZ")
    assert _evaluate(platform, client, "2026-12-01").json()["level"] == "level_3"  # 1.0 x 1.1 x neutral 1.0
    _level_where(platform, client, level="level_3")
    bigger = group_policy_event(policy_no=f"{client}-2", client_id=client, modal_premium="5000000.00")
    _send(platform, POLICY_EVENTS, (bigger["policy"]["policy_no"], bigger))
    _send(platform, CUSTOMER_EVENTS, (client, group_experience_reported(client_id=client, incurred_claims="0.00")))

    def quarter_end() -> dict[str, Any] | None:
        answer = httpx.post(f"{platform.tiering}/v1/daily-runs", json={"as_of": "2026-12-31"}, headers=_headers(),
                            timeout=60)
        assert answer.status_code == 200, answer.text
        levels = _levels(platform, client)
        return levels[-1] if levels and levels[-1]["evaluated_on"] == "2026-12-31" else None

    def book_reached_tiering() -> dict[str, Any] | None:
        answer = httpx.get(f"{platform.tiering}/v1/group-clients/{client}/evaluations", headers=_headers(), timeout=5)
        body = answer.json()
        return body if body["annual_standard_premium"] == "5200000.00" and body["experience_periods"] else None

    held = eventually("the new book in tiering", book_reached_tiering, timeout_s=60)
    assert (held["level"], held["evaluated_level"]) == ("level_3", "level_3"), "no move between evaluations"
    between = _levels(platform, client)
    assert all(level["level"] in (None, "level_3") for level in between), "no move between evaluations"
    moved = eventually("the quarter-end evaluation", quarter_end, timeout_s=60)
    # 5,200,000 standard premium: scale 1.5; loyalty 1.1; no claims on 100,000 earned: profit 1.2
    assert (moved["level"], moved["score"], moved["trigger"]) == ("level_1", "1.9800", "quarter_end")


def test_group_upstream_a_designation_approved_through_the_chain_raises_the_effective_level(
    platform: Platform,
) -> None:
    client = _client_id()
    _new_client(platform, client, premium="200000.00")
    _level_where(platform, client, level=None, branch="GD-SZ")
    assert _evaluate(platform, client, "2026-12-01").json()["level"] == "level_3"  # 1.0 x 1.1 x 1.0
    filed = httpx.post(
        f"{platform.tiering}/v1/group-designations",
        json={"client_id": client, "level": "level_1", "reason": "strategic account", "expires_on": "2027-12-31"},
        headers=_headers(FILER), timeout=10,
    )
    assert filed.status_code == 201, filed.text
    decisions = f"{platform.tiering}/v1/group-designations/{filed.json()['id']}/decisions"
    out_of_turn = httpx.post(decisions, json={"decision": "approve"}, headers=_headers(GM), timeout=10)
    assert (out_of_turn.status_code, out_of_turn.json()["reason"]) == (403, "role_required")
    own = httpx.post(decisions, json={"decision": "approve"}, headers=_headers(FILER), timeout=10)
    assert (own.status_code, own.json()["reason"]) == (403, "own_application")
    for token in (BRANCH, GM, HQ):
        answer = httpx.post(decisions, json={"decision": "approve"}, headers=_headers(token), timeout=10)
        assert answer.status_code == 200, answer.text
    assert answer.json()["state"] == "approved"
    decided = _level_where(platform, client, level="level_1")
    assert (decided["evaluated_level"], decided["approved_level"], decided["trigger"]) == (
        "level_3", "level_1", "designation"
    )


def test_group_upstream_group_policies_never_touch_the_individual_program(platform: Platform) -> None:
    customer = f"C{uuid.uuid4().hex[:8].upper()}"
    individual = policy_event(policy_no=f"P{customer}", holder_id=customer, modal_premium="36000.00")
    _send(platform, POLICY_EVENTS, (individual["policy"]["policy_no"], individual))

    def shown() -> dict[str, Any] | None:
        answer = httpx.get(f"{platform.entitlements}/v1/customers/{customer}", headers=_headers(), timeout=5)
        return answer.json() if answer.status_code == 200 and answer.json()["tier"] == "gold" else None

    before = eventually("the individual customer's tier", shown)
    group = group_policy_event(policy_no=f"G{customer}", client_id=customer, modal_premium="9000000.00")
    _send(platform, POLICY_EVENTS, (group["policy"]["policy_no"], group))

    def group_book_in_tiering() -> dict[str, Any] | None:
        answer = httpx.get(f"{platform.tiering}/v1/group-clients/{customer}/evaluations", headers=_headers(), timeout=5)
        return answer.json() if answer.status_code == 200 else None

    book = eventually("the holder's group book in tiering", group_book_in_tiering, timeout_s=60)
    assert (book["annual_standard_premium"], book["level"]) == ("9000000.00", None)

    points = httpx.get(f"{platform.scoring}/v1/customers/{customer}/points", headers=_headers(), timeout=5).json()
    assert points["points"] == "36000.00"
    assert {p["policy_no"]: p["verdict"] for p in points["policies"]}[f"G{customer}"].startswith("excluded")
    after = eventually("the individual customer's tier", shown)
    assert (after["tier"], after["points"]) == (before["tier"], before["points"]) == ("gold", "36000.00")
