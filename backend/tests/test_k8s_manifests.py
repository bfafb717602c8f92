"""Kubernetes manifests (deploy/k8s, kustomize; issue 12): every built-in object validates
against the bundled Kubernetes schemas (kubernetes-validate, offline, strict), KEDA's
ScaledObjects are checked structurally, and the wiring holds: probes and resource requests on
every container, config keys that are real settings, an HPA on the API, a queue scaler per
worker on the queue that worker consumes."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml

K8S = Path(__file__).resolve().parents[2] / "deploy" / "k8s"
KUBERNETES_VERSION = "1.33.0"
NON_SETTINGS = {"REDIS_ADDRESS"}  # read by KEDA's scaler, not by Cairn


def _objects() -> list[dict[str, Any]]:
    kustomization = yaml.safe_load((K8S / "kustomization.yaml").read_text())
    found = []
    for resource in kustomization["resources"]:
        found += [d for d in yaml.safe_load_all((K8S / resource).read_text()) if d]
    return found


OBJECTS = _objects()


def _of(kind: str) -> dict[str, dict[str, Any]]:
    return {o["metadata"]["name"]: o for o in OBJECTS if o["kind"] == kind}


def _containers(deployment: dict[str, Any]) -> list[dict[str, Any]]:
    spec = deployment["spec"]["template"]["spec"]
    return list(spec.get("initContainers", [])) + list(spec["containers"])


@pytest.mark.parametrize("obj", [o for o in OBJECTS if o["apiVersion"] != "keda.sh/v1alpha1"],
                         ids=lambda o: f"{o['kind']}/{o['metadata']['name']}")
def test_each_object_validates_against_the_kubernetes_schema(obj: dict[str, Any]) -> None:
    kubernetes_validate.validate(obj, KUBERNETES_VERSION, strict=True)


def test_a_malformed_object_is_caught_by_the_validator() -> None:
    bad = yaml.safe_load((K8S / "api.yaml").read_text().split("---")[0])
    bad["spec"]["replicas"] = "two"
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(bad, KUBERNETES_VERSION, strict=True)
    bad = yaml.safe_load((K8S / "api.yaml").read_text().split("---")[0])
    bad["spec"]["template"]["spec"]["containers"][0]["readinesProbe"] = {}  # a typo
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(bad, KUBERNETES_VERSION, strict=True)


def test_there_is_an_api_a_worker_per_queue_beat_and_console() -> None:
    assert set(_of("Deployment")) == {"cairn-api", "cairn-worker-ingest", "cairn-worker-label",
                                      "cairn-beat", "cairn-console"}
    assert _of("Deployment")["cairn-beat"]["spec"]["replicas"] == 1


def test_every_container_has_resource_requests_and_long_running_ones_probes() -> None:
    for name, deployment in _of("Deployment").items():
        for container in _containers(deployment):
            assert container["resources"]["requests"]["cpu"], name
            assert container["resources"]["requests"]["memory"], name
        for container in deployment["spec"]["template"]["spec"]["containers"]:
            assert "livenessProbe" in container, name
    api = _of("Deployment")["cairn-api"]["spec"]["template"]["spec"]["containers"][0]
    assert api["readinessProbe"]["httpGet"]["path"] == "/api/health/ready"
    assert api["livenessProbe"]["httpGet"]["path"] == "/api/health"


def test_config_and_secret_keys_are_cairn_settings() -> None:
    from app.core.config import Settings

    settings = {name.upper() for name in Settings.model_fields}
    config = _of("ConfigMap")["cairn-config"]["data"]
    secret = _of("Secret")["cairn-secrets"]["stringData"]
    assert set(config) | set(secret) <= settings | NON_SETTINGS
    assert {"DATABASE_URL", "REDIS_URL", "JWT_SECRET", "METRICS_TOKEN"} <= set(secret)
    assert config["API_HOST"] == "0.0.0.0"  # /metrics is not open inside the cluster
    for deployment in _of("Deployment").values():
        for container in _containers(deployment):
            for source in container.get("envFrom", []):
                ref = source.get("configMapRef") or source.get("secretRef")
                assert ref["name"] in {"cairn-config", "cairn-secrets"}


def test_the_api_has_an_hpa_and_each_worker_a_queue_scaler_on_its_own_queue() -> None:
    hpa = _of("HorizontalPodAutoscaler")["cairn-api"]
    assert hpa["spec"]["scaleTargetRef"]["name"] == "cairn-api"
    deployments = _of("Deployment")
    scaled = _of("ScaledObject")
    assert set(scaled) == {"cairn-worker-ingest", "cairn-worker-label"}
    for name, obj in scaled.items():
        assert obj["apiVersion"] == "keda.sh/v1alpha1"
        target = obj["spec"]["scaleTargetRef"]["name"]
        assert target in deployments
        command = deployments[target]["spec"]["template"]["spec"]["containers"][0]["command"]
        consumed = command[command.index("-Q") + 1].split(",")
        (trigger,) = obj["spec"]["triggers"]
        assert trigger["type"] == "redis"
        assert trigger["metadata"]["listName"] in consumed, name
        assert int(trigger["metadata"]["listLength"]) > 0
        assert trigger["metadata"]["addressFromEnv"] in _of("ConfigMap")["cairn-config"]["data"]
        assert 0 <= obj["spec"]["minReplicaCount"] < obj["spec"]["maxReplicaCount"]


def test_workers_expose_their_metrics_port() -> None:
    config = _of("ConfigMap")["cairn-config"]["data"]
    for name, deployment in _of("Deployment").items():
        if not name.startswith("cairn-worker-"):
            continue
        template = deployment["spec"]["template"]
        ports = {p["containerPort"] for p in template["spec"]["containers"][0]["ports"]}
        assert int(config["WORKER_METRICS_PORT"]) in ports
        assert template["metadata"]["annotations"]["prometheus.io/port"] == \
            config["WORKER_METRICS_PORT"]
