"""The look-ups as of a past day against the real embedded PostgreSQL and the real broker: events in
(`TierDecided`, `RepresentativeChanged`), `GET /v1/customers/{id}?as_of=D` and `.../entitlements?as_of=D` out."""

import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any

from shared.events.internal import Representative, RepresentativeChanged
from shared.events.values import Channel, Tier
from shared.ruleset import load_ruleset
from shared.settings import DEFAULT_RULESET_PATH
from tests.builders.decisions import tier_decided
from tests.entitlements.platform import Platform, by_code, platform
from tests.support import eventually, fresh_id

JAN, FEB, MAR, JUN = date(2026, 1, 10), date(2026, 2, 1), date(2026, 3, 1), date(2026, 6, 1)


def _representative(customer: str, *, revision: int, effective_at: date) -> RepresentativeChanged:
    return RepresentativeChanged(
        event_id=uuid.uuid4().hex, occurred_at=datetime.now(UTC), correlation_id=uuid.uuid4().hex,
        customer_id=customer, revision=revision, reason="highest contribution", effective_at=effective_at,
        representative=Representative(agent_id="A7", name="Li Hua", channel=Channel.AGENCY),
    )


async def _as_of(p: Platform, path: str, day: date | str) -> tuple[int, dict[str, Any]]:
    day_text = day if isinstance(day, str) else day.isoformat()
    answer = await p.client.get(path, params={"as_of": day_text}, headers=p.as_role("call_center"))
    return answer.status_code, answer.json()


async def test_the_customer_as_of_a_day_follows_the_histories_and_shows_a_late_decision_as_a_correction(
    database_url: str, bootstrap_servers: str, api_tokens: dict[str, str]
) -> None:
    async with platform(database_url, bootstrap_servers, api_tokens) as p:
        customer = fresh_id("C")
        path = f"/v1/customers/{customer}"
        await p.send(
            tier_decided(customer, revision=1, tier=Tier.GOLD, points="36000.00", effective_at=JAN),
            _representative(customer, revision=1, effective_at=FEB),
            tier_decided(customer, revision=2, tier=Tier.PLATINUM, points="90000.00", effective_at=JUN),
        )
        await p.customer_at_revision(customer, Tier.PLATINUM)
        await eventually(lambda: _with_representative(p, customer), what="representative applied")
        before = {day: await _as_of(p, path, day) for day in (JAN - timedelta(days=1), JAN, FEB, date(2026, 4, 1))}
        # A late decision: a policy found now lifts the customer to Diamond from March on.
        await p.send(tier_decided(customer, revision=3, tier=Tier.DIAMOND, points="250000.00", effective_at=MAR))
        await p.customer_at_revision(customer, Tier.DIAMOND)
        after = {day: await _as_of(p, path, day) for day in (FEB, date(2026, 4, 1))}
        refusals = [await _as_of(p, path, day) for day in ("2015-07-31", "2099-01-01", "yesterday")]
        never = await _as_of(p, f"/v1/customers/{fresh_id('C')}", JUN)
        now = (await p.client.get(path, headers=p.as_role("call_center"))).json()

    assert before[JAN - timedelta(days=1)][0] == 404
    assert "not yet known" in before[JAN - timedelta(days=1)][1]["detail"]
    status, on_jan = before[JAN]
    assert status == 200
    assert {key: on_jan[key] for key in ("tier", "points", "vip_since", "representative", "as_of", "corrected")} == {
        "tier": "gold", "points": "36000.00", "vip_since": JAN.isoformat(), "representative": None,
        "as_of": JAN.isoformat(), "corrected": False,
    }
    assert set(now) <= set(on_jan)  # the same body as without as_of, plus the additive fields
    assert before[FEB][1]["representative"] == {"agent_id": "A7", "name": "Li Hua", "channel": "agency"}
    assert before[date(2026, 4, 1)][1]["tier"] == "gold" and not before[date(2026, 4, 1)][1]["corrected"]

    assert after[FEB][1]["tier"] == "gold" and after[FEB][1]["corrected"] is False  # before the late effective day
    april = after[date(2026, 4, 1)][1]
    assert (april["tier"], april["points"], april["corrected"]) == ("diamond", "250000.00", True)
    [correction] = april["corrections"]
    assert (correction["kind"], correction["revision"], correction["effective_on"]) == ("tier", 3, MAR.isoformat())
    assert correction["changed"]["tier"] == {"was": "gold", "now": "diamond"}
    assert correction["changed"]["points"] == {"was": "36000.00", "now": "250000.00"}

    assert [(status, body["reason"]) for status, body in refusals] == [
        (422, "as_of_before_cutover"), (422, "as_of_in_future"), (422, "invalid_as_of"),
    ]
    assert never[0] == 404


async def _with_representative(p: Platform, customer: str) -> dict[str, Any] | None:
    answer = await p.client.get(f"/v1/customers/{customer}", headers=p.as_role("call_center"))
    body: dict[str, Any] = answer.json()
    return body if body.get("representative") else None


async def test_entitlements_as_of_a_day_show_the_period_and_the_uses_as_they_stood(
    database_url: str, bootstrap_servers: str, api_tokens: dict[str, str]
) -> None:
    async with platform(database_url, bootstrap_servers, api_tokens) as p:
        customer = fresh_id("C")
        path = f"/v1/customers/{customer}/entitlements"
        await p.send(
            tier_decided(customer, revision=1, tier=Tier.GOLD, effective_at=JAN),
            tier_decided(customer, revision=2, tier=Tier.PLATINUM, effective_at=JUN),
        )
        await p.customer_at_revision(customer, Tier.PLATINUM)
        redeemed = await p.redeem(customer, "green_channel")
        assert redeemed.status_code == 201, redeemed.text
        today = datetime.now(load_ruleset(DEFAULT_RULESET_PATH).zone).date()
        march = by_code((await _as_of(p, path, MAR))[1])
        july_status, july_body = await _as_of(p, path, date(2026, 7, 1))
        on_today = by_code((await _as_of(p, path, today))[1])
        yesterday = by_code((await _as_of(p, path, today - timedelta(days=1)))[1])
        reversed_ = await p.reverse(customer, redeemed.json()["redemption_id"])
        assert reversed_.status_code == 200, reversed_.text
        after_reversal_today = by_code((await _as_of(p, path, today))[1])
        before_january = await _as_of(p, path, JAN - timedelta(days=1))

    assert (march["vip_reading"]["period_start"], march["vip_reading"]["period_end"]) == ("2026-01-10", "2027-01-09")
    assert march["airport_lounge"]["eligible"] is False  # a Platinum service: not yet on March 1st
    assert july_status == 200 and july_body["tier"] == "platinum" and july_body["as_of"] == "2026-07-01"
    july = by_code(july_body)
    assert (july["airport_lounge"]["period_start"], july["airport_lounge"]["eligible"]) == ("2026-06-01", True)
    assert (yesterday["green_channel"]["used"], on_today["green_channel"]["used"]) == (0, 1)
    assert after_reversal_today["green_channel"]["used"] == 0  # reversed the same day: not used as that day ended
    assert before_january[0] == 404
