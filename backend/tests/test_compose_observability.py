"""docker compose's `observability` profile (issue 12): Prometheus scrapes the API with the
scrape token and every worker's metrics port, Grafana is provisioned with the Cairn dashboard
whose queries name metrics the API really exports, Flower watches Celery; nothing of it is
published beyond loopback. (`docker compose config` itself is checked by test_compose.py
where a docker client with compose exists.)"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
COMPOSE = yaml.safe_load((REPO / "docker-compose.yml").read_text())
SERVICES = COMPOSE["services"]
OBSERVABILITY = ("prometheus", "grafana", "flower")


def _mounts(service: str) -> list[tuple[Path, str]]:
    found = []
    for volume in SERVICES[service].get("volumes", []):
        source, target = volume.split(":")[:2]
        if source.startswith("./"):
            found.append((REPO / source[2:], target))
    return found


@pytest.mark.parametrize("name", OBSERVABILITY)
def test_observability_services_are_in_their_profile_and_on_loopback(name: str) -> None:
    service = SERVICES[name]
    assert service["profiles"] == ["observability"]
    assert "image" in service and ":" in service["image"]
    assert not service["image"].endswith(":latest")  # pinned
    for port in service.get("ports", []):
        assert port.startswith("127.0.0.1:"), port
    for source, _ in _mounts(name):
        assert source.exists(), source


def test_prometheus_scrapes_the_api_with_the_token_and_every_worker() -> None:
    (config_path, _), = [m for m in _mounts("prometheus") if m[1].endswith("prometheus.yml")]
    config = yaml.safe_load(config_path.read_text())
    jobs = {job["job_name"]: job for job in config["scrape_configs"]}
    api = jobs["cairn-api"]
    secret = SERVICES["prometheus"]["secrets"][0]
    assert api["authorization"]["credentials_file"] == f"/run/secrets/{secret}"
    assert COMPOSE["secrets"][secret] == {"environment": "METRICS_TOKEN"}
    assert api["dns_sd_configs"][0]["names"] == ["api"] and "api" in SERVICES
    backend_env = SERVICES["worker-ingest"]["environment"]
    assert backend_env["METRICS_TOKEN"].startswith("${METRICS_TOKEN:?")
    assert backend_env["API_HOST"] == "0.0.0.0"  # so /metrics is not open in the container
    workers = jobs["cairn-workers"]["dns_sd_configs"][0]
    assert workers["port"] == int(backend_env["WORKER_METRICS_PORT"])
    worker_services = [n for n in SERVICES if n.startswith("worker")]
    assert worker_services and set(worker_services) <= set(workers["names"])
    assert "/tmp/cairn-metrics" in SERVICES["worker-ingest"]["tmpfs"]


def test_grafana_is_provisioned_with_the_dashboard() -> None:
    mounts = dict((t, s) for s, t in _mounts("grafana"))
    provisioning = mounts["/etc/grafana/provisioning"]
    datasource = yaml.safe_load((provisioning / "datasources" / "prometheus.yml").read_text())
    uid = datasource["datasources"][0]["uid"]
    assert datasource["datasources"][0]["url"] == "http://prometheus:9090"
    provider = yaml.safe_load((provisioning / "dashboards" / "cairn.yml").read_text())
    assert provider["providers"][0]["options"]["path"] == "/var/lib/grafana/dashboards"
    dashboard = json.loads((mounts["/var/lib/grafana/dashboards"] / "cairn.json").read_text())
    assert dashboard["uid"] and dashboard["panels"]
    for panel in dashboard["panels"]:
        assert panel["datasource"]["uid"] == uid
        assert panel["targets"] and all(t["expr"] for t in panel["targets"])


def test_every_metric_the_dashboard_queries_is_exported(anon: Any) -> None:
    from prometheus_client.parser import text_string_to_metric_families

    exported = {f.name for f in text_string_to_metric_families(anon.get("/metrics").text)}
    dashboard = json.loads((REPO / "deploy/grafana/dashboards/cairn.json").read_text())
    queried = {re.sub(r"_(bucket|total|count|sum)$", "", name)
               for panel in dashboard["panels"] for target in panel["targets"]
               for name in re.findall(r"\b((?:cairn|http)_[a-z_]+)\b", target["expr"])}
    assert queried and queried <= exported, queried - exported


def test_flower_watches_the_compose_broker() -> None:
    command = " ".join(SERVICES["flower"]["command"])
    assert "redis://redis:6379/0" in command
    assert "redis://redis:6379/0" in SERVICES["worker-ingest"]["environment"]["REDIS_URL"]
