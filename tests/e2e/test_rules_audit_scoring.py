"""Issue 17, scoring's points, through the public interfaces of a running platform (`vip up`).

- Point 1: `cooling_off_ends_on` is the cooling-off's LAST day: a cancellation on that day arrives
  before the upgrade, which only the daily run of the day after makes; the policy never counted.
- Point 3: legacy standing is judged from each policy as it stood on the day before cutover
  (2015-07-31), whatever order the events arrive in.

Events go to `pas.policy-events`; answers come from the call-center API (entitlements), tiering's
tier history and scoring's points explanation; the daily run is `vip daily-run`. The daily-run
scenario comes last: a daily run moves the platform's business date, which later events respect.
"""

import asyncio
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from shared.topics import POLICY_EVENTS
from tests.builders.policies import policy_event
from tests.e2e.platform import Platform, eventually, running_platform, vip
from tests.support import publish

TOKEN = f"audit-{uuid.uuid4().hex[:8]}"
LEGACY_POLICY = {"issued_on": "2015-07-01", "cooling_off_ends_on": None, "product_type": "traditional",
                 "payment_term_years": 10, "modal_premium": "25000.00", "occurred_at": "2015-07-01T10:00:00+08:00"}
"""The issue's policy: 10-year traditional, 25,000 a year, issued 2015-07-01 (counts from 2015-07-17)."""
POLICY_2016 = {"issued_on": "2016-02-01", "cooling_off_ends_on": "2016-02-16", "modal_premium": "1000.00",
               "occurred_at": "2016-03-01T10:00:00+08:00"}
"""Another policy's 2016 event: 1,000 more, so 26,000 in all: Gold only under the legacy standard."""

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def platform(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Platform]:
    tokens = f"{TOKEN}=call_center+ops+admin"
    with running_platform(tmp_path_factory.mktemp("vip-up-audit-scoring"), tokens=tokens) as up:
        yield up


def _get(url: str) -> httpx.Response:
    return httpx.get(url, headers={"Authorization": f"Bearer {TOKEN}"}, timeout=5)


def _customer(platform: Platform, customer_id: str) -> dict[str, Any] | None:
    answer = _get(f"{platform.entitlements}/v1/customers/{customer_id}")
    return answer.json() if answer.status_code == 200 else None


def _points(platform: Platform, customer_id: str) -> dict[str, Any] | None:
    answer = _get(f"{platform.scoring}/v1/customers/{customer_id}/points")
    return answer.json() if answer.status_code == 200 else None


def _field(platform: Platform, customer_id: str, name: str) -> Any:
    """A figure of the customer's points explanation, or of its first policy's; None before scoring."""
    points = _points(platform, customer_id)
    if points is None:
        return None
    return points[name] if name in points else points["policies"][0][name]


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


def _daily_run(platform: Platform, as_of: str) -> str:
    run = vip("daily-run", "--as-of", as_of, "--token", TOKEN, "--http-port-base", str(platform.http_base))
    assert run.returncode == 0, run.stdout + run.stderr
    return run.stdout


def _legacy_story(platform: Platform, *, order: str) -> str:
    """The issue's scenario: the 2015 policy and a 2016 event on another policy, in `order`."""
    customer, policy = _ids()
    legacy = policy_event(policy_no=policy, holder_id=customer, **LEGACY_POLICY)
    later = policy_event(policy_no=f"{policy}B", holder_id=customer, **POLICY_2016)
    first, second = (legacy, later) if order == "2015 first" else (later, legacy)
    _send(platform, first)
    eventually("the first event is scored", lambda: _points(platform, customer))
    _send(platform, second)
    return customer


# --- point 3: legacy standing as of the day before cutover, whatever the arrival order -----------------


@pytest.mark.parametrize("order", ["2015 first", "2016 first"])
def test_scoring_publishes_the_legacy_figure_of_the_policies_as_they_stood_before_cutover(
    platform: Platform, order: str
) -> None:
    customer = _legacy_story(platform, order=order)

    def both_scored() -> dict[str, Any] | None:
        points = _points(platform, customer)
        return points if points and len(points["policies"]) == 2 else None

    points = eventually("both policies are scored", both_scored)
    assert points["legacy_standard_premium_before_cutover"] == "25000.00"
    assert (points["points"], points["standard_premium"]) == ("26000.00", "26000.00")


@pytest.mark.parametrize("order", ["2015 first", "2016 first"])
def test_a_2015_policy_gives_legacy_gold_whatever_the_arrival_order(platform: Platform, order: str) -> None:
    customer = _legacy_story(platform, order=order)

    # 26,000: below 2015 Gold (30,000) but legacy Gold (>= 20,000), which the customer held on 2015-07-31.
    _settles_at(platform, customer, tier="gold", standard="legacy", points="26000.00")


# --- point 1: cooling-off ends after its last day (last: it runs daily runs) ---------------------------


def test_a_cancellation_on_the_last_day_of_cooling_off_arrives_before_the_upgrade(platform: Platform) -> None:
    kept, kept_policy = _ids()
    cancelled, cancelled_policy = _ids()
    bought = {"issued_on": "2026-10-05", "cooling_off_ends_on": "2026-10-20", "modal_premium": "80000.00",
              "occurred_at": "2026-10-05T10:00:00+08:00"}
    _send(
        platform,
        policy_event(policy_no=kept_policy, holder_id=kept, **bought),
        policy_event(policy_no=cancelled_policy, holder_id=cancelled, **bought),
    )
    for customer in (kept, cancelled):
        eventually(f"{customer} counts from 2026-10-21", lambda c=customer: _field(platform, c, "next_pending_date"))
        assert _field(platform, customer, "next_pending_date") == "2026-10-21"

    assert "scoring" in _daily_run(platform, "2026-10-20")  # the last day: nothing counts yet
    _send(platform, policy_event(
        policy_no=cancelled_policy, holder_id=cancelled, version=2, event_type="cooling_off_cancellation",
        status="cancelled", **bought | {"occurred_at": "2026-10-20T17:30:00+08:00"},
    ))
    eventually("the cancellation is scored", lambda: _field(platform, cancelled, "state") == "excluded")
    _daily_run(platform, "2026-10-21")

    _settles_at(platform, kept, tier="platinum", points="80000.00", vip_since="2026-10-21")
    assert _customer(platform, cancelled) == _settles_at(platform, cancelled, tier=None, points="0.00",
                                                         vip_since=None)
    assert all(decision["tier"] is None for decision in _history(platform, cancelled)), "the policy once counted"
    newest = _history(platform, kept)[0]
    assert (newest["trigger"], newest["effective_at"], newest["tier"]) == ("daily_run", "2026-10-21", "platinum")
