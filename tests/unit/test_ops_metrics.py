"""Business gauges refreshed on scrape (cached, failure-tolerant), and the dashboard's pure parts:
reading a service's /metrics, event rates, sessions, and the ops figures' small rules."""

import asyncio
from decimal import Decimal
from pathlib import Path

import pytest
from prometheus_client import generate_latest

from dashboard.pipeline import RateHistory, parse_service_metrics
from dashboard.sessions import LoginRefused, Sessions
from services.scoring.ops import tier_on_2015_points
from services.tiering.ops import movement
from shared.events.values import Tier
from shared.metrics import ServiceMetrics, set_labelled
from shared.ruleset import load_ruleset
from shared.settings import DEFAULT_RULESET_PATH


def _scrape(metrics: ServiceMetrics) -> str:
    return generate_latest(metrics.registry).decode()


async def test_a_scrape_storm_refreshes_the_business_gauges_once_per_interval() -> None:
    metrics = ServiceMetrics(service="tiering")
    calls = 0

    async def refresh(target: ServiceMetrics) -> None:
        nonlocal calls
        calls += 1
        await asyncio.sleep(0.01)
        set_labelled(target.vips_by_tier, {"gold": calls})

    metrics.refresh_business_with(refresh, max_age_s=60)
    await asyncio.gather(*(metrics.refresh_business() for _ in range(20)))
    await metrics.refresh_business()
    assert calls == 1
    assert 'vip_customers_by_tier{tier="gold"} 1.0' in _scrape(metrics)


async def test_the_gauges_are_refreshed_again_once_the_cache_is_older_than_its_interval() -> None:
    metrics = ServiceMetrics(service="tiering")
    calls = 0

    async def refresh(target: ServiceMetrics) -> None:
        nonlocal calls
        calls += 1

    metrics.refresh_business_with(refresh, max_age_s=0)
    await metrics.refresh_business()
    await metrics.refresh_business()
    assert calls == 2


async def test_a_failed_refresh_keeps_the_last_values_counts_the_failure_and_retries_next_scrape() -> None:
    metrics = ServiceMetrics(service="assignment")
    outcomes: list[Exception | None] = [None, ConnectionRefusedError("database away"), None]

    async def refresh(target: ServiceMetrics) -> None:
        outcome = outcomes.pop(0)
        if outcome is not None:
            raise outcome
        set_labelled(target.vips_without_representative, {"agency": 2})

    metrics.refresh_business_with(refresh, max_age_s=0)
    await metrics.refresh_business()
    await metrics.refresh_business()
    text = _scrape(metrics)
    assert 'vip_vips_without_representative{channel="agency"} 2.0' in text
    assert "vip_business_metrics_refresh_failures_total 1.0" in text
    await metrics.refresh_business()
    assert outcomes == []


async def test_during_an_outage_a_scrape_storm_tries_the_database_once_per_interval() -> None:
    metrics = ServiceMetrics(service="tiering")
    attempts = 0

    async def refresh(target: ServiceMetrics) -> None:
        nonlocal attempts
        attempts += 1
        raise ConnectionRefusedError("database away")

    metrics.refresh_business_with(refresh, max_age_s=60)
    await asyncio.gather(*(metrics.refresh_business() for _ in range(10)))
    assert attempts == 1
    assert "vip_business_metrics_refresh_failures_total 1.0" in _scrape(metrics)


def test_set_labelled_drops_series_that_are_gone_and_takes_tuples_for_several_labels() -> None:
    metrics = ServiceMetrics(service="entitlements")
    set_labelled(metrics.redemptions, {("agency", "GD-SZ", "V001"): 3, ("brokerage", "GD-SZ", "none"): 1})
    set_labelled(metrics.redemptions, {("agency", "GD-SZ", "V001"): 4})
    text = _scrape(metrics)
    assert 'vip_redemptions{branch="GD-SZ",channel="agency",vendor="V001"} 4.0' in text
    assert "brokerage" not in text


def test_a_service_owning_no_business_figure_exports_no_business_series() -> None:
    text = _scrape(ServiceMetrics(service="scoring"))
    assert "vip_customers_by_tier{" not in text
    assert "vip_vips_without_representative{" not in text


def test_the_dashboard_reads_a_services_metrics_summed_per_topic() -> None:
    metrics = ServiceMetrics(service="scoring")
    metrics.events_consumed.labels("pas.policy-events").inc(17)
    metrics.events_processed.labels("pas.policy-events", "new_business").inc(10)
    metrics.events_processed.labels("pas.policy-events", "surrender").inc(5)
    metrics.events_dead_lettered.labels("pas.policy-events", "decode").inc(2)
    metrics.consumer_lag.labels("pas.policy-events", "0").set(3)
    metrics.consumer_lag.labels("pas.policy-events", "1").set(4)
    metrics.outbox_backlog.set(9)
    health = parse_service_metrics("scoring", _scrape(metrics))
    flow = health.topics["pas.policy-events"]
    assert (flow.consumed, flow.processed, flow.dead_lettered, flow.lag) == (17, 15, 2, 7)
    assert health.outbox_backlog == 9
    assert health.processed == 15


def test_event_rates_come_from_successive_samples_and_survive_a_restart() -> None:
    history = RateHistory()
    history.record({"scoring": 100}, at=1000.0)
    history.record({"scoring": 160}, at=1010.0)
    history.record({"scoring": 20}, at=1020.0)  # restarted: its counter began again
    assert history.rates() == [
        {"at": 1010.0, "rates": {"scoring": 6.0}},
        {"at": 1020.0, "rates": {"scoring": 2.0}},
    ]


def test_only_a_known_token_holding_the_ops_role_opens_a_session() -> None:
    sessions = Sessions(api_tokens="t-ops=ops,t-cc=call_center", lifetime_s=60)
    with pytest.raises(LoginRefused, match="does not open the dashboard"):
        sessions.open("nope")
    with pytest.raises(LoginRefused, match="does not open the dashboard"):  # the same words: which is not said
        sessions.open("t-cc")
    session_id = sessions.open("t-ops")
    assert "t-ops" not in session_id
    session = sessions.get(session_id)
    assert session is not None and session.token == "t-ops"
    sessions.close(session_id)
    assert sessions.get(session_id) is None


def test_an_expired_session_is_refused() -> None:
    sessions = Sessions(api_tokens="t-ops=ops", lifetime_s=-1)
    assert sessions.get(sessions.open("t-ops")) is None


@pytest.mark.parametrize(
    ("points", "tier"),
    [("29999.99", None), ("30000", Tier.GOLD), ("69999.99", Tier.GOLD), ("70000", Tier.PLATINUM),
     ("250000", Tier.DIAMOND)],
)
def test_pending_upgrades_are_judged_on_the_2015_thresholds(points: str, tier: Tier | None) -> None:
    ruleset = load_ruleset(Path(DEFAULT_RULESET_PATH))
    assert tier_on_2015_points(Decimal(points), ruleset) == tier


@pytest.mark.parametrize(
    ("previous", "tier", "expected"),
    [(None, "gold", "entered"), ("gold", None, "left"), ("gold", "platinum", "up"), ("diamond", "gold", "down"),
     ("gold", "gold", None), (None, None, None)],
)
def test_a_tier_decision_is_a_movement_only_when_the_effective_tier_changes(
    previous: str | None, tier: str | None, expected: str | None
) -> None:
    assert movement(previous, tier) == expected
