"""docker-compose.yml is valid for Docker Compose (where a docker client with compose exists)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
COMPOSE_FILE = REPO_ROOT / "docker-compose.yml"


def _compose_command() -> list[str] | None:
    candidates = []
    if shutil.which("docker"):
        candidates.append(["docker", "compose"])
    if shutil.which("docker-compose"):
        candidates.append(["docker-compose"])
    for command in candidates:
        probe = subprocess.run(
            [*command, "version"], capture_output=True, text=True, timeout=30, check=False
        )
        if probe.returncode == 0:
            return command
    return None


@pytest.fixture(scope="module")
def compose_file() -> Path:
    if not COMPOSE_FILE.exists():
        pytest.skip("docker-compose.yml does not exist yet")
    return COMPOSE_FILE


def test_compose_file_is_a_mapping_of_services(compose_file: Path) -> None:
    import yaml

    data = yaml.safe_load(compose_file.read_text())
    assert isinstance(data, dict)
    services = data.get("services")
    assert isinstance(services, dict) and services
    for name, service in services.items():
        assert "image" in service or "build" in service, name


def test_docker_compose_config_is_valid(compose_file: Path) -> None:
    command = _compose_command()
    if command is None:
        pytest.skip("no docker client with compose here")
    result = subprocess.run(
        [*command, "-f", str(compose_file), "config", "-q"],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=REPO_ROOT,
        check=False,
    )
    assert result.returncode == 0, result.stderr
