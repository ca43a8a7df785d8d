"""Issue 3's scenarios through the public interfaces of a running platform (`vip up`).

Inbound events go to `pas.policy-events` / `crm.customer-events`; answers come from the call-center
API (entitlements), `GET /v1/customers/{id}/tier-history` (tiering) and
`GET /v1/customers/{id}/points` (scoring), and the daily run is `vip daily-run`. The daily-run
scenario comes last: a daily run moves the platform's business date, which later events respect.
"""

import asyncio
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from shared.topics import CUSTOMER_EVENTS, POLICY_EVENTS
from tests.builders.policies import policy_event
from tests.e2e.platform import Platform, eventually, running_platform, vip
from tests.support import publish

TOKEN = f"rules-{uuid.uuid4().hex[:8]}"

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def platform(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Platform]:
    with running_platform(tmp_path_factory.mktemp("vip-up-rules"), tokens=f"{TOKEN}=call_center+ops+admin") as up:
        yield up


def _get(url: str) -> httpx.Response:
    return httpx.get(url, headers={"Authorization": f"Bearer {TOKEN}"}, timeout=5)


def _customer(platform: Platform, customer_id: str) -> dict[str, Any] | None:
    answer = _get(f"{platform.entitlements}/v1/customers/{customer_id}")
    return answer.json() if answer.status_code == 200 else None


def _history(platform: Platform, customer_id: str) -> list[dict[str, Any]]:
    answer = _get(f"{platform.tiering}/v1/customers/{customer_id}/tier-history")
    return list(answer.json()["decisions"]) if answer.status_code == 200 else []


def _settles_at(platform: Platform, customer_id: str, **expected: Any) -> dict[str, Any]:
    def matches() -> dict[str, Any] | None:
        found = _customer(platform, customer_id)
        return found if found and all(found[key] == value for key, value in expected.items()) else None

    return dict(eventually(f"{customer_id} shows {expected}", matches))


def _ids() -> tuple[str, str]:
    suffix = uuid.uuid4().hex[:8].upper()
    return f"C{suffix}", f"P{suffix}"


def _send(platform: Platform, *events: dict[str, Any]) -> None:
    asyncio.run(publish(platform.bootstrap_servers, POLICY_EVENTS, [(e["policy"]["policy_no"], e) for e in events]))


def test_a_duplicate_event_has_no_second_effect(platform: Platform) -> None:
    customer, policy = _ids()
    event = policy_event(policy_no=policy, holder_id=customer, modal_premium="36000.00")
    _send(platform, event, event)
    _settles_at(platform, customer, tier="gold", points="36000.00")
    follow_up = policy_event(policy_no=policy, holder_id=customer, version=2, modal_premium="80000.00",
                             event_type="additional_premium", occurred_at="2026-10-09T10:00:00+08:00")
    _send(platform, follow_up)
    _settles_at(platform, customer, tier="platinum")
    assert [decision["trigger"] for decision in _history(platform, customer)] == ["additional_premium", "new_business"]


def test_a_stale_version_has_no_effect_and_is_recorded(platform: Platform) -> None:
    customer, policy = _ids()
    newer = policy_event(policy_no=policy, holder_id=customer, version=2, modal_premium="80000.00",
                         event_type="additional_premium")
    older = policy_event(policy_no=policy, holder_id=customer, version=1, modal_premium="36000.00")
    _send(platform, newer)
    _settles_at(platform, customer, tier="platinum", points="80000.00")
    _send(platform, older)

    def stale_recorded() -> bool:
        points = _get(f"{platform.scoring}/v1/customers/{customer}/points").json()
        return bool(points["policies"][0]["stale_events_ignored"] == 1)

    eventually("the stale event is recorded", stale_recorded)
    assert _customer(platform, customer) == _settles_at(platform, customer, tier="platinum", points="80000.00")
    assert len(_history(platform, customer)) == 1


def test_a_policyholder_change_moves_the_points_in_one_step(platform: Platform) -> None:
    old_holder, policy = _ids()
    new_holder = f"{old_holder}N"
    _send(platform, policy_event(policy_no=policy, holder_id=old_holder, modal_premium="36000.00"))
    _settles_at(platform, old_holder, tier="gold")
    _send(platform, policy_event(
        policy_no=policy, holder_id=new_holder, previous_holder_id=old_holder, version=2,
        event_type="policyholder_change", occurred_at="2026-10-10T10:00:00+08:00", modal_premium="36000.00",
    ))
    _settles_at(platform, new_holder, tier="gold", points="36000.00")
    _settles_at(platform, old_holder, tier=None, points="0.00")
    assert _history(platform, old_holder)[0]["trigger"] == "policyholder_change"


def test_a_legacy_customer_slides_down_and_requalifies_on_the_2015_standard(platform: Platform) -> None:
    customer, policy = _ids()
    legacy = {"issued_on": "2015-01-05", "cooling_off_ends_on": "2015-01-20", "product_type": "traditional",
              "payment_term_years": 10}
    _send(platform, policy_event(policy_no=policy, holder_id=customer, modal_premium="25000.00",
                                 occurred_at="2015-06-01T10:00:00+08:00", **legacy))
    # 25,000 standard premium: legacy Gold (>= 20,000) though only 25,000 points under 2015 (< 30,000).
    _settles_at(platform, customer, tier="gold", standard="legacy", points="25000.00")

    _send(platform, policy_event(policy_no=policy, holder_id=customer, version=2, event_type="partial_surrender",
                                 modal_premium="15000.00", occurred_at="2026-01-10T10:00:00+08:00", **legacy))
    _settles_at(platform, customer, tier=None, standard="2015", points="15000.00")

    # Back to 25,000: legacy Gold again under the old standard, but the customer is on 2015 for good.
    _send(platform, policy_event(policy_no=policy, holder_id=customer, version=3, event_type="additional_premium",
                                 modal_premium="25000.00", occurred_at="2026-02-01T10:00:00+08:00", **legacy))
    eventually("the re-score arrives", lambda: len(_history(platform, customer)) >= 2 and
               _customer(platform, customer) is not None)
    _settles_at(platform, customer, tier=None, standard="2015", points="25000.00")

    _send(platform, policy_event(policy_no=policy, holder_id=customer, version=4, event_type="additional_premium",
                                 modal_premium="32000.00", occurred_at="2026-03-01T10:00:00+08:00", **legacy))
    _settles_at(platform, customer, tier="gold", standard="2015", points="32000.00")


def test_a_roster_event_after_the_policy_events_still_corrects_the_standard(platform: Platform) -> None:
    customer, policy = _ids()
    # 25,000 after cutover: not VIP under 2015 (< 30,000); the roster says legacy Gold before cutover.
    _send(platform, policy_event(policy_no=policy, holder_id=customer, modal_premium="25000.00",
                                 product_type="traditional"))
    _settles_at(platform, customer, tier=None, standard="2015")
    roster = {"event_id": uuid.uuid4().hex, "event_type": "legacy_vip_imported",
              "occurred_at": "2026-10-09T09:00:00+08:00", "customer_id": customer, "tier": "gold",
              "since": "2014-03-01"}
    asyncio.run(publish(platform.bootstrap_servers, CUSTOMER_EVENTS, [(customer, roster)]))
    _settles_at(platform, customer, tier="gold", standard="legacy", points="25000.00")


def test_cooling_off_then_the_daily_run_and_a_cancellation_within_cooling_off(platform: Platform) -> None:
    waiting, waiting_policy = _ids()
    cancelled, cancelled_policy = _ids()
    pending = {"issued_on": "2026-10-05", "cooling_off_ends_on": "2026-10-20",
               "occurred_at": "2026-10-05T10:00:00+08:00"}
    _send(
        platform,
        policy_event(policy_no=waiting_policy, holder_id=waiting, modal_premium="80000.00", **pending),
        policy_event(policy_no=cancelled_policy, holder_id=cancelled, modal_premium="80000.00", **pending),
    )
    _settles_at(platform, waiting, tier=None, points="0.00")
    points = _get(f"{platform.scoring}/v1/customers/{waiting}/points").json()
    assert points["policies"][0]["state"] == "pending"
    _send(platform, policy_event(
        policy_no=cancelled_policy, holder_id=cancelled, version=2, event_type="cooling_off_cancellation",
        status="cancelled", modal_premium="80000.00", issued_on="2026-10-05", cooling_off_ends_on="2026-10-20",
        occurred_at="2026-10-09T10:00:00+08:00",
    ))
    eventually("the cancellation is scored", lambda: _get(
        f"{platform.scoring}/v1/customers/{cancelled}/points").json()["policies"][0]["state"] == "excluded")

    # 2026-10-20 is the cooling-off's last day: the policy can still be cancelled, nothing counts yet.
    last_day = vip("daily-run", "--as-of", "2026-10-20", "--token", TOKEN,
                   "--http-port-base", str(platform.http_base))
    assert last_day.returncode == 0, last_day.stdout + last_day.stderr
    assert _customer(platform, waiting)["tier"] is None  # type: ignore[index]

    day_after = vip("daily-run", "--as-of", "2026-10-21", "--token", TOKEN,
                    "--http-port-base", str(platform.http_base))
    assert day_after.returncode == 0, day_after.stdout + day_after.stderr
    assert "scoring" in day_after.stdout and "changed" in day_after.stdout
    _settles_at(platform, waiting, tier="platinum", points="80000.00", vip_since="2026-10-21")
    newest = _history(platform, waiting)[0]
    assert (newest["trigger"], newest["effective_at"]) == ("daily_run", "2026-10-21")
    assert _customer(platform, cancelled) == _settles_at(platform, cancelled, tier=None, points="0.00")
