"""The production monitoring files in deploy/ checked statically: they parse, scrape the four services,
and every alert and Grafana query names metrics the services really export (ServiceMetrics)."""

import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from prometheus_client.metrics import MetricWrapperBase

from cli.layout import SERVICES
from shared.metrics import ServiceMetrics

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
METRIC_NAME = re.compile(r"\bvip_[a-z0-9_]+\b")


def _exported_names() -> set[str]:
    """Every series name a service's /metrics can carry: counters' `_total`, histograms' `_bucket`..."""
    metrics = ServiceMetrics(service="any")
    names: set[str] = set()
    for attribute in vars(metrics).values():
        if not isinstance(attribute, MetricWrapperBase):
            continue
        for family in attribute.describe():
            kind, name = family.type, family.name
            if kind == "counter":
                names |= {f"{name}_total", f"{name}_created"}
            elif kind == "histogram":
                names |= {f"{name}_bucket", f"{name}_sum", f"{name}_count", f"{name}_created"}
            else:
                names.add(name)
    return names


EXPORTED = _exported_names()


def _yaml(path: Path) -> dict[str, Any]:
    loaded = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert isinstance(loaded, dict), path
    return loaded


def test_the_exported_names_include_the_business_gauges() -> None:
    assert {
        "vip_customers_by_tier", "vip_cooling_off_pending_upgrades", "vip_vips_without_representative",
        "vip_vips_without_representative_oldest_days", "vip_redemptions", "vip_redemption_cost",
        "vip_honorary_applications_waiting", "vip_consumer_lag", "vip_outbox_backlog",
        "vip_events_dead_lettered_total", "vip_http_request_seconds_bucket",
    } <= EXPORTED


def test_prometheus_scrapes_the_four_services_by_compose_name_and_loads_the_alerts() -> None:
    config = _yaml(DEPLOY / "prometheus" / "prometheus.yml")
    targets = {
        target: static["labels"]["service"]
        for job in config["scrape_configs"]
        for static in job["static_configs"]
        for target in static["targets"]
    }
    assert targets == {f"{s.name}:{s.port(base=8001)}": s.name for s in SERVICES}
    assert all(job.get("metrics_path", "/metrics") == "/metrics" for job in config["scrape_configs"])
    assert config["rule_files"] == ["/etc/prometheus/alerts.yml"]


def _alerts() -> dict[str, dict[str, Any]]:
    rules = _yaml(DEPLOY / "prometheus" / "alerts.yml")
    return {rule["alert"]: rule for group in rules["groups"] for rule in group["rules"]}


def test_the_alerts_the_issue_asks_for_exist() -> None:
    alerts = _alerts()
    assert {"VipConsumerLagGrowing", "VipDeadLettersArriving", "VipWithoutRepresentativeOverADay",
            "VipOutboxBacklog"} <= set(alerts)
    assert "vip_consumer_lag" in alerts["VipConsumerLagGrowing"]["expr"]
    assert "vip_events_dead_lettered_total" in alerts["VipDeadLettersArriving"]["expr"]
    assert "vip_vips_without_representative_oldest_days" in alerts["VipWithoutRepresentativeOverADay"]["expr"]
    assert "> 1" in alerts["VipWithoutRepresentativeOverADay"]["expr"]
    assert "vip_outbox_backlog" in alerts["VipOutboxBacklog"]["expr"]


@pytest.mark.parametrize("name", sorted(_alerts()))
def test_each_alert_names_only_metrics_the_services_export(name: str) -> None:
    rule = _alerts()[name]
    used = set(METRIC_NAME.findall(rule["expr"]))
    assert used or re.search(r"\bup\b", rule["expr"]), f"{name} names no metric"
    assert used <= EXPORTED, f"{name} names metrics nobody exports: {sorted(used - EXPORTED)}"
    assert rule["annotations"]["summary"]
    assert rule["labels"]["severity"] in {"warning", "critical"}


def _dashboard() -> dict[str, Any]:
    loaded = json.loads((DEPLOY / "grafana" / "dashboards" / "vip.json").read_text(encoding="utf-8"))
    assert isinstance(loaded, dict)
    return loaded


def test_the_grafana_dashboard_queries_only_exported_metrics_through_the_provisioned_datasource() -> None:
    dashboard = _dashboard()
    datasource = _yaml(DEPLOY / "grafana" / "provisioning" / "datasources" / "prometheus.yml")["datasources"][0]
    assert datasource["url"] == "http://prometheus:9090"
    panels = [panel for panel in dashboard["panels"] if panel["type"] != "row"]
    assert len({panel["id"] for panel in dashboard["panels"]}) == len(dashboard["panels"])
    for panel in panels:
        assert panel["datasource"]["uid"] == datasource["uid"], panel["title"]
        assert panel["targets"], panel["title"]
        for target in panel["targets"]:
            used = set(METRIC_NAME.findall(target["expr"]))
            assert used and used <= EXPORTED, (panel["title"], sorted(used - EXPORTED))


def test_the_grafana_dashboard_has_the_views_operations_need() -> None:
    exprs = " ".join(target["expr"] for panel in _dashboard()["panels"] for target in panel.get("targets", []))
    titles = " | ".join(panel["title"].lower() for panel in _dashboard()["panels"])
    for view in ("tier distribution", "tier movements per day", "pending cooling-off upgrades",
                 "vips without a representative", "representatives' loads", "honorary applications waiting",
                 "value-added cost", "value-added usage", "events applied per second", "consumer lag",
                 "dead letters", "outbox backlog"):
        assert view in titles, view
    for grouping in ("sum by (channel) (vip_redemption_cost)", "sum by (branch) (vip_redemption_cost)",
                     "sum by (vendor) (vip_redemption_cost)"):
        assert grouping in exprs


def test_the_dashboards_provider_reads_where_compose_mounts_the_json() -> None:
    provider = _yaml(DEPLOY / "grafana" / "provisioning" / "dashboards" / "vip.yml")["providers"][0]
    compose = _yaml(ROOT / "docker-compose.yml")
    mounts = {
        volume.split(":")[1]: volume.split(":")[0] for volume in compose["services"]["grafana"]["volumes"]
    }
    assert (ROOT / mounts[provider["options"]["path"]] / "vip.json").is_file()
    assert (ROOT / mounts["/etc/grafana/provisioning"] / "datasources" / "prometheus.yml").is_file()
