"""deploy/kubernetes: the Kustomize base and the production overlay, rendered and checked offline.

Rendered by `kubectl kustomize` (kustomize built into kubectl; no cluster is contacted), every object
validated against the Kubernetes JSON schemas bundled with `kubernetes-validate`, then the platform's
own rules: non-root, read-only root filesystem, resources, probes, pinned images, secrets by
reference, the migrations as Jobs, a disruption budget for every service.
"""

import importlib.util
import shutil
import subprocess
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
KUSTOMIZATIONS = {
    "base": ROOT / "deploy" / "kubernetes" / "base",
    "production": ROOT / "deploy" / "kubernetes" / "overlays" / "production",
}
SERVICES = ("scoring", "tiering", "assignment", "entitlements")
KUBERNETES_VERSION = "1.32.0"
KUBECTL = shutil.which("kubectl")

pytestmark = pytest.mark.skipif(KUBECTL is None, reason="kubectl (its built-in kustomize renders the manifests)")


def render(name: str) -> list[dict[str, Any]]:
    assert KUBECTL is not None
    result = subprocess.run([KUBECTL, "kustomize", str(KUSTOMIZATIONS[name])], capture_output=True, text=True,
                            timeout=60, check=False)
    assert result.returncode == 0, result.stderr
    return [document for document in yaml.safe_load_all(result.stdout) if document]


@pytest.fixture(scope="module", params=sorted(KUSTOMIZATIONS))
def rendered(request: pytest.FixtureRequest) -> list[dict[str, Any]]:
    return render(request.param)


def of_kind(objects: list[dict[str, Any]], kind: str) -> dict[str, dict[str, Any]]:
    return {o["metadata"]["name"]: o for o in objects if o["kind"] == kind}


def workloads(objects: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [o for o in objects if o["kind"] in ("Deployment", "Job")]


def test_every_object_is_valid_against_the_kubernetes_schemas(rendered: list[dict[str, Any]]) -> None:
    for document in rendered:
        kubernetes_validate.validate(document, KUBERNETES_VERSION, strict=True)  # raises on any error


def test_the_four_services_the_dashboard_and_a_migration_job_per_database_are_there(
    rendered: list[dict[str, Any]],
) -> None:
    deployments, jobs = of_kind(rendered, "Deployment"), of_kind(rendered, "Job")
    assert set(deployments) == {*SERVICES, "dashboard"}
    assert set(of_kind(rendered, "Service")) == {*SERVICES, "dashboard"}
    assert set(of_kind(rendered, "PodDisruptionBudget")) == set(SERVICES)
    assert {tuple(job["spec"]["template"]["spec"]["containers"][0]["command"]) for job in jobs.values()} == {
        ("python", "-m", "shared.migrate", service) for service in SERVICES
    }
    for deployment in deployments.values():
        module = deployment["spec"]["template"]["spec"]["containers"][0]["command"][-1]
        assert importlib.util.find_spec(module) is not None, f"{module} is not a module of the image"


def test_every_container_runs_as_non_root_on_a_read_only_root_filesystem(rendered: list[dict[str, Any]]) -> None:
    for workload in workloads(rendered):
        pod = workload["spec"]["template"]["spec"]
        assert pod["securityContext"]["runAsNonRoot"] is True, workload["metadata"]["name"]
        assert pod["securityContext"]["runAsUser"] == 10001  # the image's user `vip`
        assert pod["automountServiceAccountToken"] is False
        for container in pod["containers"]:
            context = container["securityContext"]
            assert context["readOnlyRootFilesystem"] is True, container["name"]
            assert context["allowPrivilegeEscalation"] is False
            assert context["capabilities"]["drop"] == ["ALL"]


def test_every_container_has_resources_and_an_image_pinned_by_tag(rendered: list[dict[str, Any]]) -> None:
    for workload in workloads(rendered):
        for container in workload["spec"]["template"]["spec"]["containers"]:
            for bound in ("requests", "limits"):
                assert {"cpu", "memory"} <= set(container["resources"][bound]), (workload["metadata"]["name"], bound)
            _name, _colon, tag = container["image"].rpartition(":")
            assert tag and "/" not in tag and tag != "latest", container["image"]


def test_deployments_probe_healthz_for_liveness_and_readyz_for_readiness(rendered: list[dict[str, Any]]) -> None:
    for name, deployment in of_kind(rendered, "Deployment").items():
        container = deployment["spec"]["template"]["spec"]["containers"][0]
        assert container["livenessProbe"]["httpGet"]["path"] == "/healthz", name
        assert container["readinessProbe"]["httpGet"]["path"] == "/readyz", name
        port = container["ports"][0]["containerPort"]
        service = of_kind(rendered, "Service")[name]
        assert service["spec"]["ports"][0]["port"] == port
        env = {entry["name"]: entry for entry in container["env"]}
        assert env["VIP_HTTP_PORT"]["value"] == str(port)


def test_secrets_are_referenced_never_written_and_the_services_leave_migrations_to_the_jobs(
    rendered: list[dict[str, Any]],
) -> None:
    assert not of_kind(rendered, "Secret"), "Secrets are created by the operator, not shipped"
    config = of_kind(rendered, "ConfigMap")["vip-config"]["data"]
    assert config["VIP_RUN_MIGRATIONS"] == "false"
    assert not any("PASSWORD" in key or "TOKEN" in key or "DATABASE_URL" in key for key in config)
    for workload in workloads(rendered):
        for entry in workload["spec"]["template"]["spec"]["containers"][0]["env"]:
            if entry["name"] in ("VIP_DATABASE_URL", "VIP_API_TOKENS", "VIP_KAFKA_SASL_PASSWORD"):
                assert "secretKeyRef" in entry["valueFrom"], (workload["metadata"]["name"], entry["name"])


def test_the_production_overlay_runs_replicas_on_a_real_kafka_over_sasl_ssl() -> None:
    objects = render("production")
    assert {o["metadata"].get("namespace") for o in objects} == {"vip"}
    config = of_kind(objects, "ConfigMap")["vip-config"]["data"]
    assert config["VIP_KAFKA_SECURITY_PROTOCOL"] == "SASL_SSL"
    assert "localhost" not in config["VIP_KAFKA_BOOTSTRAP_SERVERS"] and "," in config["VIP_KAFKA_BOOTSTRAP_SERVERS"]
    assert int(config["VIP_KAFKA_REPLICATION_FACTOR"]) >= 3
    deployments = of_kind(objects, "Deployment")
    autoscalers = of_kind(objects, "HorizontalPodAutoscaler")
    for service in SERVICES:
        assert deployments[service]["spec"]["replicas"] >= 2
        env = {e["name"]: e for e in deployments[service]["spec"]["template"]["spec"]["containers"][0]["env"]}
        assert env["VIP_KAFKA_SASL_USERNAME"]["value"] == f"vip-{service}"  # the ACL user of deploy/kafka
        assert autoscalers[service]["spec"]["scaleTargetRef"]["name"] == service
        assert autoscalers[service]["spec"]["maxReplicas"] <= 8  # no more consumers than partitions
    assert deployments["dashboard"]["spec"]["replicas"] == 1  # sessions in memory (docs/deployment.md)
