"""Issue 17 point 12 through the public interfaces of a running platform (`vip up`): the daily run's
result does not depend on timing between the services.

A value-added period that rolls over on date D opens at the tier the customer holds on D after D's
cooling-off endings and honorary expiries (rules.md section 4, "Daily determination"). The
customers' periods open today and roll over a year later, on D; one `vip daily-run --as-of D` must
leave them right, and visible, as soon as the command returns (it waits for the pipeline to drain
between services): nothing below waits for anything after it.

The run is dated a year ahead, so the platform allows future dates (`VIP_ALLOW_FUTURE_DAILY_RUN`).
"""

import asyncio
import uuid
from collections.abc import Iterator
from datetime import date, timedelta
from typing import Any

import httpx
import pytest

from cli.daily_run import insurer_today
from services.entitlements.domain.periods import add_months
from shared.topics import POLICY_EVENTS
from tests.builders.policies import policy_event
from tests.e2e.platform import Platform, eventually, running_platform, vip
from tests.support import publish

TOKEN = f"order-{uuid.uuid4().hex[:8]}"
APPLICANT = f"applicant-{uuid.uuid4().hex[:8]}"
CHAIN = ("branch_ops", "branch_gm", "hq_business", "hq_customer_service", "hq_executive")
APPROVERS = {role: f"{role}-{uuid.uuid4().hex[:8]}" for role in CHAIN}
TOKENS = ",".join(
    [f"{TOKEN}=call_center+ops+admin", f"{APPLICANT}=honorary_applicant"]
    + [f"{token}={role}" for role, token in APPROVERS.items()]
)
DIAMOND_ONLY = "health_checkup"  # value-added, Diamond only
PLATINUM_UP = "airport_lounge"  # value-added, Diamond and Platinum
EVERY_TIER = "vip_reading"  # value-added, every tier

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def platform(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Platform]:
    with running_platform(tmp_path_factory.mktemp("vip-up-daily-run-order"), tokens=TOKENS,
                          env={"VIP_ALLOW_FUTURE_DAILY_RUN": "true"}) as up:
        yield up


def _get(url: str) -> httpx.Response:
    return httpx.get(url, headers={"Authorization": f"Bearer {TOKEN}"}, timeout=10)


def _post(url: str, body: dict[str, Any], token: str) -> httpx.Response:
    return httpx.post(url, json=body, headers={"Authorization": f"Bearer {token}"}, timeout=10)


def _unique(prefix: str) -> str:
    return f"{prefix}{uuid.uuid4().hex[:8].upper()}"


def _send(platform: Platform, *events: dict[str, Any]) -> None:
    asyncio.run(publish(platform.bootstrap_servers, POLICY_EVENTS, [(e["policy"]["policy_no"], e) for e in events]))


def _customer(platform: Platform, customer_id: str) -> dict[str, Any] | None:
    answer = _get(f"{platform.entitlements}/v1/customers/{customer_id}")
    return answer.json() if answer.status_code == 200 else None


def _settles_at(platform: Platform, customer_id: str, **expected: Any) -> dict[str, Any]:
    def matches() -> dict[str, Any] | None:
        found = _customer(platform, customer_id)
        return found if found and all(found[key] == value for key, value in expected.items()) else None

    return dict(eventually(f"{customer_id} shows {expected}", matches))


def _services(platform: Platform, customer_id: str, *, on: date) -> dict[str, dict[str, Any]]:
    answer = _get(f"{platform.entitlements}/v1/customers/{customer_id}/entitlements?as_of={on.isoformat()}")
    assert answer.status_code == 200, answer.text
    return {entry["code"]: entry for entry in answer.json()["entitlements"]}


def _honorary_diamond(platform: Platform, customer_id: str, *, expires_on: date) -> None:
    filed = _post(f"{platform.tiering}/v1/honorary-applications",
                  {"customer_id": customer_id, "tier": "diamond", "reason": "board decision",
                   "expires_on": expires_on.isoformat()}, APPLICANT)
    assert filed.status_code == 201, filed.text
    for role in CHAIN:
        decided = _post(f"{platform.tiering}/v1/honorary-applications/{filed.json()['id']}/decisions",
                        {"decision": "approve", "comment": "for one year"}, APPROVERS[role])
        assert decided.status_code == 200, decided.text
    _settles_at(platform, customer_id, tier="diamond", honorary=True)


def test_a_period_rolling_over_on_d_opens_at_the_tier_held_on_d_after_its_expiries_and_cooling_off_ends(
    platform: Platform,
) -> None:
    today = insurer_today({})
    roll_over = add_months(today, 12)  # D: the day after the last day of a period opened today
    last_day = (roll_over - timedelta(days=1)).isoformat()
    policy_date = {"issued_on": today.isoformat(), "occurred_at": f"{today.isoformat()}T00:00:01+08:00"}

    # An honorary Diamond who holds Gold by points, and one who holds nothing; both expire on D.
    gold_underneath, nothing_underneath = _unique("H"), _unique("H")
    _send(platform, policy_event(policy_no=_unique("P"), holder_id=gold_underneath, modal_premium="36000.00"))
    _settles_at(platform, gold_underneath, tier="gold")
    for customer_id in (gold_underneath, nothing_underneath):
        _honorary_diamond(platform, customer_id, expires_on=roll_over)
        diamond = _services(platform, customer_id, on=today)[DIAMOND_ONLY]
        assert diamond["eligible"] and diamond["period_end"] == last_day

    # Gold since today; a second policy whose cooling-off ends the day before D lifts them to Platinum on D.
    rising = _unique("C")
    _send(
        platform,
        policy_event(policy_no=_unique("P"), holder_id=rising, modal_premium="36000.00",
                     cooling_off_ends_on=(today - timedelta(days=1)).isoformat(), **policy_date),
        policy_event(policy_no=_unique("P"), holder_id=rising, modal_premium="40000.00",
                     cooling_off_ends_on=last_day, **policy_date),
    )
    _settles_at(platform, rising, tier="gold", points="36000.00")
    gold = _services(platform, rising, on=today)[EVERY_TIER]
    assert (gold["period_start"], gold["period_end"]) == (today.isoformat(), last_day)

    ran = vip("daily-run", "--as-of", roll_over.isoformat(), "--token", TOKEN,
              "--http-port-base", str(platform.http_base))
    assert ran.returncode == 0, ran.stdout + ran.stderr
    summary = ran.stdout.splitlines()[-1]
    assert summary.startswith(f"summary {roll_over.isoformat()}: scoring changed 1, published 1 → tiering applied")
    assert "entitlements applied" in summary and "tier_decided" in summary

    # Right as the command returns: no waiting below.
    held = _customer(platform, gold_underneath) or {}
    assert (held["tier"], held["honorary"]) == ("gold", False)
    after_expiry = _services(platform, gold_underneath, on=roll_over)
    assert not after_expiry[DIAMOND_ONLY]["eligible"], "the honorary Diamond got a new Diamond year"
    assert after_expiry[EVERY_TIER]["eligible"] and after_expiry[EVERY_TIER]["period_start"] == roll_over.isoformat()

    assert _customer(platform, nothing_underneath)["tier"] is None  # type: ignore[index]
    nothing = _services(platform, nothing_underneath, on=roll_over)
    assert not nothing[DIAMOND_ONLY]["eligible"] and not nothing[EVERY_TIER]["eligible"]

    assert _customer(platform, rising)["tier"] == "platinum"  # type: ignore[index]
    risen = _services(platform, rising, on=roll_over)[PLATINUM_UP]
    assert risen["eligible"] and risen["period_start"] == roll_over.isoformat()
