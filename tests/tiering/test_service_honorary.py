"""Honorary VIP applications end to end through HTTP, against the running tiering service on the real
embedded PostgreSQL and broker: what is published is read back from `vip.tier-decisions.v1`."""

import asyncio
import uuid
from collections.abc import AsyncIterator
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import create_async_engine

from services.entitlements.config import EntitlementsSettings
from services.entitlements.main import create_app as create_entitlements_app
from services.tiering.config import TieringSettings
from services.tiering.domain.honorary import APPROVER_ROLES, CHAIN
from services.tiering.main import create_app
from shared.auth import parse_api_tokens
from shared.events.internal import CustomerScored
from shared.topics import CUSTOMER_SCORES, TIER_DECISIONS
from tests.support import auth, eventually, fresh_id, publish, read_topic, running, service_settings, tokens_setting

SHANGHAI = ZoneInfo("Asia/Shanghai")


def today() -> date:
    return datetime.now(SHANGHAI).date()


class Platform:
    """The running tiering service, its tokens (one user per role) and the broker."""

    def __init__(self, client: httpx.AsyncClient, tokens: dict[str, str], bootstrap_servers: str) -> None:
        self.client = client
        self.tokens = tokens
        self.bootstrap_servers = bootstrap_servers
        principals = parse_api_tokens(tokens_setting(tokens))
        self.user_ids = {role: principals[token].user_id for role, token in tokens.items()}

    def as_role(self, role: str) -> dict[str, str]:
        return auth(self.tokens[role])

    async def file(self, customer_id: str, *, tier: str = "diamond", expires_on: date | None = None) -> str:
        response = await self.client.post(
            "/v1/honorary-applications",
            json={
                "customer_id": customer_id,
                "tier": tier,
                "reason": "member of the provincial people's congress",
                "expires_on": expires_on.isoformat() if expires_on is not None else None,
            },
            headers=self.as_role("honorary_applicant"),
        )
        assert response.status_code == 201, response.text
        application_id: str = response.json()["id"]
        return application_id

    async def decide(
        self, application_id: str, role: str, decision: str = "approve", comment: str | None = "agreed", **extra: Any
    ) -> httpx.Response:
        return await self.client.post(
            f"/v1/honorary-applications/{application_id}/decisions",
            json={"decision": decision, "comment": comment, **extra},
            headers=self.as_role(role),
        )

    async def approve_all(self, application_id: str, roles: tuple[str, ...] = APPROVER_ROLES) -> dict[str, Any]:
        body: dict[str, Any] = {}
        for role in roles:
            response = await self.decide(application_id, role)
            assert response.status_code == 200, response.text
            body = response.json()
        return body

    async def show(self, application_id: str) -> dict[str, Any]:
        response = await self.client.get(f"/v1/honorary-applications/{application_id}", headers=self.as_role("ops"))
        assert response.status_code == 200, response.text
        shown: dict[str, Any] = response.json()
        return shown

    async def decisions(self, *, expect: int, timeout_s: float = 20) -> list[dict[str, Any]]:
        records = await read_topic(self.bootstrap_servers, TIER_DECISIONS, expect=expect, timeout_s=timeout_s)
        return [record.json() for record in records]

    async def history(self, customer_id: str, *, count: int) -> list[dict[str, Any]]:
        async def check() -> list[dict[str, Any]] | None:
            response = await self.client.get(
                f"/v1/customers/{customer_id}/tier-history", headers=self.as_role("call_center")
            )
            found: list[dict[str, Any]] = response.json()["decisions"] if response.status_code == 200 else []
            return found if len(found) >= count else None

        return await eventually(check, what=f"{count} tier decisions for {customer_id}")

    async def score(self, customer_id: str, *, points: str) -> None:
        """Publish a CustomerScored, as scoring would, and wait until tiering has decided on it."""
        as_of = today() - timedelta(days=10)
        event = CustomerScored(
            event_id=uuid.uuid4().hex,
            occurred_at=datetime(as_of.year, as_of.month, as_of.day, 10, tzinfo=SHANGHAI),
            correlation_id=uuid.uuid4().hex,
            customer_id=customer_id,
            revision=1,
            as_of=as_of,
            trigger="new_business",
            ruleset_version="individual-2015.1",
            points=Decimal(points),
            standard_premium=Decimal(points),
            pending_points=Decimal("0.00"),
            serving_channel="agency",
            policies=(),
        )
        await publish(self.bootstrap_servers, CUSTOMER_SCORES, [(customer_id, event.model_dump_json().encode())])
        await self.history(customer_id, count=1)


@pytest.fixture
async def platform(database_url: str, bootstrap_servers: str, api_tokens: dict[str, str]) -> AsyncIterator[Platform]:
    settings = service_settings(
        TieringSettings,
        database_url=database_url,
        bootstrap_servers=bootstrap_servers,
        tokens=api_tokens,
        allow_future_daily_run=True,
    )
    async with running(create_app(settings), port=settings.http_port) as client:
        yield Platform(client, api_tokens, bootstrap_servers)


async def test_the_full_chain_grants_a_never_scored_customer_the_honorary_tier(platform: Platform) -> None:
    customer = fresh_id("C")
    expires_on = today() + timedelta(days=365)
    application_id = await platform.file(customer, tier="diamond", expires_on=expires_on)
    filed = await platform.show(application_id)
    assert (filed["state"], filed["next_step"]["step"], filed["customer_id"], filed["tier"]) == (
        "pending",
        "branch_ops",
        customer,
        "diamond",
    )
    assert [step["status"] for step in filed["steps"]] == ["waiting", "upcoming", "upcoming", "upcoming", "upcoming"]

    for number, role in enumerate(APPROVER_ROLES[:-1], start=1):
        response = await platform.decide(application_id, role, comment=f"seen by {role}")
        assert response.status_code == 200, response.text
        assert response.json()["next_step"]["number"] == number + 1
    assert await platform.decisions(expect=1, timeout_s=2) == [], "nothing is granted before the last step"
    final = await platform.decide(application_id, "hq_executive", comment="approved")
    assert final.status_code == 200, final.text

    shown = await platform.show(application_id)
    assert (shown["state"], shown["next_step"], shown["expires_on"]) == ("approved", None, expires_on.isoformat())
    assert [
        (s["number"], s["step"], s["role"], s["status"], s["decision"], s["who"], s["comment"]) for s in shown["steps"]
    ] == [
        (1, "branch_ops", "branch_ops", "decided", "approve", platform.user_ids["branch_ops"], "seen by branch_ops"),
        (2, "branch_gm", "branch_gm", "decided", "approve", platform.user_ids["branch_gm"], "seen by branch_gm"),
        (
            3,
            "hq_business",
            "hq_business",
            "decided",
            "approve",
            platform.user_ids["hq_business"],
            "seen by hq_business",
        ),
        (
            4,
            "hq_customer_service",
            "hq_customer_service",
            "decided",
            "approve",
            platform.user_ids["hq_customer_service"],
            "seen by hq_customer_service",
        ),
        (5, "hq_executive", "hq_executive", "decided", "approve", platform.user_ids["hq_executive"], "approved"),
    ]
    assert all(datetime.fromisoformat(step["when"]).tzinfo is not None for step in shown["steps"])

    published = await platform.decisions(expect=1)
    assert len(published) == 1
    decided = published[0]
    assert (decided["customer_id"], decided["revision"], decided["trigger"]) == (customer, 1, "honorary")
    assert (decided["tier"], decided["computed_tier"], decided["honorary_tier"], decided["previous_tier"]) == (
        "diamond",
        None,
        "diamond",
        None,
    )
    assert (decided["points"], decided["standard"], decided["serving_channel"], decided["policies"]) == (
        "0.00",
        "2015",
        None,
        [],
    )
    assert (decided["effective_at"], decided["vip_since"]) == (today().isoformat(), today().isoformat())
    history = await platform.history(customer, count=1)
    assert [(d["tier"], d["honorary_tier"], d["trigger"]) for d in history] == [("diamond", "diamond", "honorary")]
    assert "honorary Diamond is higher" in history[0]["reason"]


async def test_a_wrong_role_at_each_step_is_refused_naming_the_role_it_needs(platform: Platform) -> None:
    application_id = await platform.file(fresh_id("C"))
    for number, step in enumerate(CHAIN):
        for role in (*APPROVER_ROLES, "honorary_applicant", "ops", "call_center", "admin"):
            if role == step.role:
                continue
            refused = await platform.decide(application_id, role)
            assert refused.status_code == 403, (step, role, refused.text)
            assert (
                f"waits for step {step.number} of 5 ({step.value}): this needs the role {step.role}"
                in (refused.json()["detail"])
            )
        other = CHAIN[(number + 1) % len(CHAIN)]
        out_of_turn = await platform.decide(application_id, step.role, step=other.value)
        assert out_of_turn.status_code == 409 and "out of turn" in out_of_turn.json()["detail"], out_of_turn.text
        accepted = await platform.decide(application_id, step.role, step=step.value)
        assert accepted.status_code == 200, accepted.text
    closed = await platform.decide(application_id, "hq_executive")
    assert closed.status_code == 409 and "is approved: it takes no more decisions" in closed.json()["detail"]
    shown = await platform.show(application_id)
    assert [(step["decision"], step["who"]) for step in shown["steps"]] == [
        ("approve", platform.user_ids[role]) for role in APPROVER_ROLES
    ]


async def test_the_same_user_may_not_decide_two_steps(platform: Platform) -> None:
    application_id = await platform.file(fresh_id("C"))
    first = await platform.decide(application_id, "dev")  # the dev user holds every role
    second = await platform.decide(application_id, "dev")
    by_another = await platform.decide(application_id, "branch_gm")
    later = await platform.decide(application_id, "dev")

    assert first.status_code == 200, first.text
    assert second.status_code == 403
    assert "already decided step 1 (branch_ops)" in second.json()["detail"]
    assert "one person may not decide two steps" in second.json()["detail"]
    assert by_another.status_code == 200, by_another.text
    assert later.status_code == 403 and "one person may not decide two steps" in later.json()["detail"]
    shown = await platform.show(application_id)
    assert [step["who"] for step in shown["steps"][:3]] == [
        platform.user_ids["dev"],
        platform.user_ids["branch_gm"],
        None,
    ]
    assert shown["next_step"]["step"] == "hq_business"


async def test_a_rejection_at_step_three_ends_the_application(platform: Platform) -> None:
    customer = fresh_id("C")
    application_id = await platform.file(customer)
    await platform.approve_all(application_id, ("branch_ops", "branch_gm"))
    no_comment = await platform.decide(application_id, "hq_business", "reject", comment=None)
    rejected = await platform.decide(application_id, "hq_business", "reject", comment="not prominent enough")
    after = await platform.decide(application_id, "hq_customer_service")
    again = await platform.decide(application_id, "hq_business", "approve")
    refiled = await platform.file(customer, tier="gold")

    assert no_comment.status_code == 422 and "a rejection needs a comment" in no_comment.json()["detail"]
    assert rejected.status_code == 200, rejected.text
    body = rejected.json()
    assert (body["state"], body["next_step"]) == ("rejected", None)
    assert [(s["status"], s["decision"]) for s in body["steps"]] == [
        ("decided", "approve"),
        ("decided", "approve"),
        ("decided", "reject"),
        ("not_reached", None),
        ("not_reached", None),
    ]
    assert body["steps"][2]["comment"] == "not prominent enough"
    assert after.status_code == 409 and "is rejected: it takes no more decisions" in after.json()["detail"]
    assert again.status_code == 409
    assert refiled != application_id, "a closed application no longer blocks a new one"
    assert await platform.decisions(expect=1, timeout_s=2) == []


async def test_an_honorary_tier_expires_through_the_daily_run(platform: Platform) -> None:
    customer = fresh_id("C")
    await platform.score(customer, points="36000.00")
    expires_on = today() + timedelta(days=30)
    application_id = await platform.file(customer, tier="platinum", expires_on=expires_on)
    await platform.approve_all(application_id)
    ops = platform.as_role("ops")
    day_before = await platform.client.post(
        "/v1/daily-runs", json={"as_of": str(expires_on - timedelta(days=1))}, headers=ops
    )
    due = await platform.client.post("/v1/daily-runs", json={"as_of": expires_on.isoformat()}, headers=ops)
    twice = await platform.client.post("/v1/daily-runs", json={"as_of": expires_on.isoformat()}, headers=ops)

    assert (day_before.json()["changed"], due.json()["changed"], twice.json()["changed"]) == (0, 1, 0)
    published = await platform.decisions(expect=3)
    assert [(d["revision"], d["tier"], d["honorary_tier"], d["trigger"], d["effective_at"]) for d in published] == [
        (1, "gold", None, "new_business", (today() - timedelta(days=10)).isoformat()),
        (2, "platinum", "platinum", "honorary", today().isoformat()),
        (3, "gold", None, "daily_run", expires_on.isoformat()),
    ]
    shown = await platform.show(application_id)
    assert shown["state"] == "expired"
    assert {k: shown["ending"][k] for k in ("kind", "who", "effective_on")} == {
        "kind": "expired",
        "who": "daily_run",
        "effective_on": expires_on.isoformat(),
    }
    history = await platform.history(customer, count=3)
    assert [d["trigger"] for d in history] == ["daily_run", "honorary", "new_business"]
    revoke_expired = await platform.client.post(
        f"/v1/honorary-applications/{application_id}/revocation",
        json={"comment": "too late"},
        headers=platform.as_role("hq_customer_service"),
    )
    assert revoke_expired.status_code == 409 and "is expired" in revoke_expired.json()["detail"]


async def test_revocation_by_hq_customer_service_is_recorded_and_recomputes_the_tier(platform: Platform) -> None:
    customer = fresh_id("C")
    application_id = await platform.file(customer, tier="gold")
    await platform.approve_all(application_id)
    path = f"/v1/customers/{customer}/honorary/revocation"
    by_ops = await platform.client.post(path, json={"comment": "x"}, headers=platform.as_role("ops"))
    no_comment = await platform.client.post(path, json={}, headers=platform.as_role("hq_customer_service"))
    revoked = await platform.client.post(
        path, json={"comment": "verified misconduct"}, headers=platform.as_role("hq_customer_service")
    )
    again = await platform.client.post(path, json={"comment": "again"}, headers=platform.as_role("hq_customer_service"))

    assert by_ops.status_code == 403 and "hq_customer_service" in by_ops.json()["detail"]
    assert no_comment.status_code == 422 and "needs a comment" in no_comment.json()["detail"]
    assert revoked.status_code == 200, revoked.text
    assert revoked.json()["state"] == "revoked"
    ending = revoked.json()["ending"]
    assert (ending["kind"], ending["who"], ending["comment"], ending["effective_on"]) == (
        "revoked",
        platform.user_ids["hq_customer_service"],
        "verified misconduct",
        today().isoformat(),
    )
    assert again.status_code == 404 and "holds no honorary status" in again.json()["detail"]
    published = await platform.decisions(expect=2)
    assert [(d["revision"], d["tier"], d["honorary_tier"], d["previous_tier"], d["trigger"]) for d in published] == [
        (1, "gold", "gold", None, "honorary"),
        (2, None, None, "gold", "honorary"),
    ]
    history = await platform.history(customer, count=2)
    assert [(d["tier"], d["trigger"]) for d in history] == [(None, "honorary"), ("gold", "honorary")]


async def test_an_honorary_tier_below_the_computed_one_changes_no_tier_but_is_recorded(platform: Platform) -> None:
    customer = fresh_id("C")
    await platform.score(customer, points="250000.00")
    application_id = await platform.file(customer, tier="gold")
    await platform.approve_all(application_id)

    published = await platform.decisions(expect=2)
    assert [
        (d["tier"], d["computed_tier"], d["honorary_tier"], d["previous_tier"], d["trigger"]) for d in published
    ] == [
        ("diamond", "diamond", None, None, "new_business"),
        ("diamond", "diamond", "gold", "diamond", "honorary"),
    ]
    history = await platform.history(customer, count=2)
    assert (history[0]["tier"], history[0]["trigger"]) == ("diamond", "honorary")
    assert "honorary Gold is not higher" in history[0]["reason"]
    assert history[0]["vip_since"] == history[1]["vip_since"], "the VIP spell goes on unbroken"


async def test_a_later_grant_supersedes_the_one_in_force(platform: Platform) -> None:
    customer = fresh_id("C")
    first = await platform.file(customer, tier="gold")
    await platform.approve_all(first)
    second = await platform.file(customer, tier="platinum")
    await platform.approve_all(second)
    revoked = await platform.client.post(
        f"/v1/honorary-applications/{second}/revocation",
        json={"comment": "error"},
        headers=platform.as_role("hq_customer_service"),
    )

    assert (await platform.show(first))["ending"]["kind"] == "superseded"
    assert (await platform.show(first))["ending"]["who"] == second
    assert revoked.status_code == 200 and revoked.json()["state"] == "revoked"
    published = await platform.decisions(expect=3)
    assert [(d["tier"], d["honorary_tier"], d["trigger"]) for d in published] == [
        ("gold", "gold", "honorary"),
        ("platinum", "platinum", "honorary"),
        (None, None, "honorary"),
    ]


async def test_a_filing_is_refused_naming_the_problem(platform: Platform) -> None:
    customer = fresh_id("C")
    applicant = platform.as_role("honorary_applicant")

    async def file(**body: Any) -> httpx.Response:
        payload = {"customer_id": customer, "tier": "gold", "reason": "academician", "expires_on": None, **body}
        payload = {key: value for key, value in payload.items() if value is not ...}
        return await platform.client.post("/v1/honorary-applications", json=payload, headers=applicant)

    unknown_tier = await file(tier="silver")
    no_reason = await file(reason=...)
    blank_reason = await file(reason="  ")
    yesterday = await file(expires_on=str(today() - timedelta(days=1)))
    expiring_today = await file(expires_on=today().isoformat())
    wrong_role = await platform.client.post(
        "/v1/honorary-applications",
        json={"customer_id": customer, "tier": "gold", "reason": "x"},
        headers=platform.as_role("branch_ops"),
    )
    no_token = await platform.client.post("/v1/honorary-applications", json={"customer_id": customer})
    first, racing = await asyncio.gather(file(), file())
    second = await file(tier="diamond")

    assert unknown_tier.status_code == 422 and "unknown tier 'silver'" in unknown_tier.json()["detail"]
    assert no_reason.status_code == 422 and "reason is required" in no_reason.json()["detail"]
    assert blank_reason.status_code == 422 and "reason is required" in blank_reason.json()["detail"]
    assert yesterday.status_code == 422 and "is not after today" in yesterday.json()["detail"]
    assert expiring_today.status_code == 422
    assert wrong_role.status_code == 403 and "honorary_applicant" in wrong_role.json()["detail"]
    assert no_token.status_code == 401
    assert sorted([first.status_code, racing.status_code]) == [201, 409]
    assert second.status_code == 409 and "already has an open honorary application" in second.json()["detail"]


async def test_the_listing_shows_what_waits_at_each_step(platform: Platform) -> None:
    first, second, third = [await platform.file(fresh_id("C")) for _ in range(3)]
    await platform.approve_all(second, ("branch_ops",))
    await platform.approve_all(third, ("branch_ops", "branch_gm", "hq_business"))
    await platform.decide(first, "branch_ops", "reject", comment="no")

    async def listing(query: str, role: str = "ops") -> httpx.Response:
        return await platform.client.get(f"/v1/honorary-applications?{query}", headers=platform.as_role(role))

    pending = await listing("state=pending", role="hq_executive")
    at_gm = await listing("state=pending&step=branch_gm", role="branch_gm")
    rejected = await listing("state=rejected")
    by_call_center = await listing("state=pending", role="call_center")
    unknown_step = await listing("step=ceo")

    assert pending.status_code == 200, pending.text
    assert pending.json()["waiting"] == {
        "branch_ops": 0,
        "branch_gm": 1,
        "hq_business": 0,
        "hq_customer_service": 1,
        "hq_executive": 0,
    }
    assert [(a["id"], a["next_step"]["step"]) for a in pending.json()["applications"]] == [
        (second, "branch_gm"),
        (third, "hq_customer_service"),
    ]
    assert [a["id"] for a in at_gm.json()["applications"]] == [second]
    assert [a["id"] for a in rejected.json()["applications"]] == [first]
    assert by_call_center.status_code == 403
    assert unknown_step.status_code == 422


async def test_the_audit_trail_cannot_be_edited_or_deleted(platform: Platform, database_url: str) -> None:
    application_id = await platform.file(fresh_id("C"))
    await platform.approve_all(application_id, ("branch_ops", "branch_gm"))
    base = f"/v1/honorary-applications/{application_id}"
    attempts = [
        await platform.client.request(method, path, json={"decision": "reject"}, headers=platform.as_role("dev"))
        for method in ("PUT", "PATCH", "DELETE")
        for path in (base, f"{base}/decisions", f"{base}/decisions/1")
    ]
    assert {response.status_code for response in attempts} <= {404, 405}

    engine = create_async_engine(database_url)
    refused = []
    try:
        for statement in (
            "UPDATE honorary_decisions SET verdict = 'reject' WHERE application_id = :id",
            "DELETE FROM honorary_decisions WHERE application_id = :id",
            "UPDATE honorary_applications SET tier = 'gold' WHERE id = :id",
            "DELETE FROM honorary_applications WHERE id = :id",
            "TRUNCATE honorary_decisions CASCADE",
        ):
            with pytest.raises(DBAPIError) as caught:
                async with engine.begin() as connection:
                    await connection.execute(text(statement), {"id": application_id})
            refused.append(str(caught.value))
    finally:
        await engine.dispose()
    assert all("append-only" in message or "never edited or deleted" in message for message in refused), refused
    shown = await platform.show(application_id)
    assert [step["decision"] for step in shown["steps"]] == ["approve", "approve", None, None, None]


async def test_a_granted_honorary_tier_reaches_the_call_center_and_opens_a_value_added_period(
    platform: Platform, postgres: Any, bootstrap_servers: str, api_tokens: dict[str, str]
) -> None:
    """The TierDecided tiering publishes for a never-scored customer, consumed by the real entitlements."""
    entitlements_database = f"t_{uuid.uuid4().hex[:12]}"
    await postgres.create_databases([entitlements_database])
    settings = service_settings(
        EntitlementsSettings,
        database_url=postgres.database_url(entitlements_database),
        bootstrap_servers=bootstrap_servers,
        tokens=api_tokens,
    )
    customer = fresh_id("C")
    application_id = await platform.file(customer, tier="platinum")
    await platform.approve_all(application_id)
    async with running(create_entitlements_app(settings), port=settings.http_port) as call_center:
        headers = platform.as_role("call_center")

        async def shown() -> dict[str, Any] | None:
            response = await call_center.get(f"/v1/customers/{customer}", headers=headers)
            return response.json() if response.status_code == 200 else None

        view = await eventually(shown, what=f"{customer} in the call-center view")
        entitlements = (await call_center.get(f"/v1/customers/{customer}/entitlements", headers=headers)).json()

    assert (view["tier"], view["honorary"], view["points"], view["vip_since"]) == (
        "platinum",
        True,
        "0.00",
        today().isoformat(),
    )
    lounge = next(entry for entry in entitlements["entitlements"] if entry["code"] == "airport_lounge")
    assert (lounge["eligible"], lounge["quota"], lounge["remaining"], lounge["period_start"]) == (
        True,
        2,
        2,
        today().isoformat(),
    )
