"""Issue 17, the assignment side, through the public interfaces of a running platform (`vip up`):
policy and HR events in, the representative out of assignment's API, the daily run through
`vip daily-run`, an honorary application through tiering's API.

- point 5: a legacy customer's representative follows the legacy measure (standard premium);
- points 8 and 9: the pool serves the customer's branch first;
- point 11: an honorary VIP with no policy gets a representative from the filing channel's pool in
  the filing branch;
- point 10: a departure dated ahead takes effect only with the daily run of its date (last: a daily
  run moves the platform's business date).
"""

import asyncio
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from shared.topics import AGENT_EVENTS, POLICY_EVENTS
from tests.builders.policies import policy_event
from tests.e2e.platform import Platform, eventually, running_platform, vip
from tests.support import publish

TOKEN = f"audit-{uuid.uuid4().hex[:8]}"
APPLICANT = f"applicant-{uuid.uuid4().hex[:8]}"
CHAIN = ("branch_ops", "branch_gm", "hq_business", "hq_customer_service", "hq_executive")
APPROVERS = {role: f"{role}-{uuid.uuid4().hex[:8]}" for role in CHAIN}
TOKENS = ",".join(
    [f"{TOKEN}=call_center+ops+admin", f"{APPLICANT}=honorary_applicant"]
    + [f"{token}={role}" for role, token in APPROVERS.items()]
)

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def platform(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Platform]:
    with running_platform(tmp_path_factory.mktemp("vip-up-audit-assignment"), tokens=TOKENS) as up:
        yield up


def _get(url: str, token: str = TOKEN) -> httpx.Response:
    return httpx.get(url, headers={"Authorization": f"Bearer {token}"}, timeout=5)


def _post(url: str, body: dict[str, Any], token: str) -> httpx.Response:
    return httpx.post(url, json=body, headers={"Authorization": f"Bearer {token}"}, timeout=10)


def _unique(prefix: str) -> str:
    return f"{prefix}{uuid.uuid4().hex[:8].upper()}"


def _hire(platform: Platform, agent_id: str, *, branch: str, role: str = "agent", channel: str = "agency") -> None:
    profile = {"agent_id": agent_id, "name": f"Name {agent_id}", "channel": channel, "branch": branch,
               "role": role, "top_performer": False, "eligible": True}
    _hr(platform, agent_id, {"event_type": "agent_upserted", "occurred_at": "2026-09-01T10:00:00+08:00",
                             "agent": profile})
    eventually(f"assignment knows {agent_id}",
               lambda: _get(f"{platform.assignment}/v1/representatives/{agent_id}/customers").status_code == 200)


def _hr(platform: Platform, key: str, body: dict[str, Any]) -> None:
    message = {"event_id": uuid.uuid4().hex, **body}
    asyncio.run(publish(platform.bootstrap_servers, AGENT_EVENTS, [(key, message)]))


def _send(platform: Platform, *events: dict[str, Any]) -> None:
    asyncio.run(publish(platform.bootstrap_servers, POLICY_EVENTS, [(e["policy"]["policy_no"], e) for e in events]))


def _represented_by(platform: Platform, customer_id: str, agent_id: str) -> dict[str, Any]:
    def found() -> dict[str, Any] | None:
        answer = _get(f"{platform.assignment}/v1/customers/{customer_id}/representative")
        body = answer.json() if answer.status_code == 200 else None
        return body if body and body["agent_id"] == agent_id else None

    return dict(eventually(f"{customer_id} represented by {agent_id}", found))


def test_a_legacy_customers_representative_follows_the_legacy_measure(platform: Platform) -> None:
    customer, branch = _unique("C"), _unique("BR")
    ten_year, six_year = _unique("A"), _unique("A")
    for agent_id in (ten_year, six_year):
        _hire(platform, agent_id, branch=branch)
    legacy = {"issued_on": "2015-01-05", "cooling_off_ends_on": "2015-01-20", "product_type": "traditional",
              "occurred_at": "2015-06-01T10:00:00+08:00", "branch": branch}
    # 10 years x 16,000: 16,000 points, 16,000 standard premium.
    # 6 years x 30,000: 18,000 points (6/10), 15,000 standard premium (factor of 5 years, 0.5).
    _send(
        platform,
        policy_event(policy_no=_unique("P"), holder_id=customer, agent_id=ten_year, payment_term_years=10,
                     modal_premium="16000.00", **legacy),
        policy_event(policy_no=_unique("P"), holder_id=customer, agent_id=six_year, payment_term_years=6,
                     modal_premium="30000.00", **legacy),
    )

    found = _represented_by(platform, customer, ten_year)

    customer_view = _get(f"{platform.entitlements}/v1/customers/{customer}").json()
    assert (customer_view["tier"], customer_view["standard"]) == ("gold", "legacy")
    assert customer_view["representative"]["agent_id"] == ten_year
    assert found["basis"] == "policy" and "(16000.00)" in found["reason"]


def test_the_service_pool_serves_the_customers_branch_first(platform: Platform) -> None:
    customer, here, there = _unique("C"), _unique("BR"), _unique("BR")
    # the other branch's person has the lower id: by load and id alone they would be chosen
    elsewhere, local = f"S0{_unique('')}", f"S9{_unique('')}"
    _hire(platform, elsewhere, branch=there, role="cs_specialist")
    _hire(platform, local, branch=here, role="back_office")
    never_hired = _unique("X")  # the policy's service person is unknown to HR: the pool serves

    _send(platform, policy_event(policy_no=_unique("P"), holder_id=customer, agent_id=never_hired, branch=here,
                                 modal_premium="36000.00"))

    found = _represented_by(platform, customer, local)
    assert found["basis"] == "service_pool" and f"in the customer's branch {here}" in found["reason"]


def test_an_honorary_vip_without_policies_gets_a_representative_from_the_filing_pool(platform: Platform) -> None:
    customer, branch = _unique("H"), _unique("BR")
    local = _unique("B")
    _hire(platform, local, branch=branch, role="renewal_staff", channel="bancassurance")
    _hire(platform, _unique("B"), branch=_unique("BR"), role="renewal_staff", channel="bancassurance")

    filed = _post(f"{platform.tiering}/v1/honorary-applications",
                  {"customer_id": customer, "tier": "platinum", "reason": "board decision", "expires_on": None,
                   "channel": "bancassurance", "branch": branch}, APPLICANT)
    assert filed.status_code == 201, filed.text
    for role in CHAIN:
        decided = _post(f"{platform.tiering}/v1/honorary-applications/{filed.json()['id']}/decisions",
                        {"decision": "approve", "comment": "known to the branch"}, APPROVERS[role])
        assert decided.status_code == 200, decided.text

    found = _represented_by(platform, customer, local)
    assert found["basis"] == "service_pool" and f"in the customer's branch {branch}" in found["reason"]


def _daily_run(platform: Platform, as_of: str) -> str:
    ran = vip("daily-run", "--as-of", as_of, "--token", TOKEN, "--http-port-base", str(platform.http_base))
    assert ran.returncode == 0, ran.stdout + ran.stderr
    return ran.stdout


def test_a_departure_dated_ahead_takes_effect_with_the_daily_run_of_its_date(platform: Platform) -> None:
    customer, branch = _unique("C"), _unique("BR")
    leaving, successor = _unique("A"), _unique("S")
    _hire(platform, leaving, branch=branch)
    _hire(platform, successor, branch=branch, role="cs_specialist")
    _send(platform, policy_event(policy_no=_unique("P"), holder_id=customer, agent_id=leaving, branch=branch,
                                 modal_premium="36000.00"))
    _represented_by(platform, customer, leaving)

    _hr(platform, leaving, {"event_type": "agent_departed", "occurred_at": "2026-11-20T10:00:00+08:00",
                            "agent_id": leaving, "departed_on": "2026-11-25"})
    person = eventually("the departure recorded ahead", lambda: (
        body if (body := _get(f"{platform.assignment}/v1/representatives/{leaving}/customers").json())
        ["departs_on"] == "2026-11-25" else None))
    assert person["status"] == "active" and person["load"] == 1

    _daily_run(platform, "2026-11-24")
    still = _get(f"{platform.assignment}/v1/customers/{customer}/representative").json()
    assert still["agent_id"] == leaving

    output = _daily_run(platform, "2026-11-25")
    assert "assignment" in output and "departures_taken_effect" in output
    found = _represented_by(platform, customer, successor)
    assert found["since"] == "2026-11-25" and "left the company on 2026-11-25" in found["reason"]
    gone = _get(f"{platform.assignment}/v1/representatives/{leaving}/customers").json()
    assert (gone["status"], gone["departed_on"], gone["load"]) == ("departed", "2026-11-25", 0)
    assert _get(f"{platform.entitlements}/v1/customers/{customer}").json()["representative"]["agent_id"] == successor
