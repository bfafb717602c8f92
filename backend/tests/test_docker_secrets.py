"""No usable default secret on the docker compose path (issue 7, item 1): the compose file
has no default for any secret and publishes on 127.0.0.1; scripts/docker_secrets.py (run by
`./start.sh --docker` and `make up`) generates the missing ones into a mode-600 .env."""

from __future__ import annotations

import importlib.util
import os
import re
import stat
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest
import yaml

from app.auth.secret import admin_password_problem, jwt_secret_problem

REPO_ROOT = Path(__file__).resolve().parents[2]
SCRIPT = REPO_ROOT / "scripts" / "docker_secrets.py"
SECRETS = ("JWT_SECRET", "ADMIN_PASSWORD", "POSTGRES_PASSWORD", "MINIO_ROOT_USER",
           "MINIO_ROOT_PASSWORD", "METRICS_TOKEN")


def _script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("docker_secrets", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _run(env_file: Path, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if k not in SECRETS} | env
    return subprocess.run([sys.executable, "-I", str(SCRIPT), "--env-file", str(env_file)],
                          capture_output=True, text=True, timeout=60, check=False, env=clean)


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


# --- the generator --------------------------------------------------------------------------


def test_first_run_creates_a_private_env_with_every_secret(tmp_path: Path) -> None:
    env_file = tmp_path / ".env"
    done = _run(env_file)
    assert done.returncode == 0, done.stderr
    assert _mode(env_file) == 0o600
    values = _script().parse_env(env_file.read_text())
    assert set(SECRETS) <= set(values)
    assert len({values[name] for name in SECRETS}) == len(SECRETS)
    assert jwt_secret_problem(values["JWT_SECRET"]) is None
    assert admin_password_problem(values["ADMIN_PASSWORD"], production=True) is None
    assert re.fullmatch(r"[A-Za-z0-9_-]{20,}", values["POSTGRES_PASSWORD"])  # URL-safe
    for name in SECRETS:
        assert name in done.stdout  # says what it generated...
        assert values[name] not in done.stdout  # ...never the value


def test_existing_values_and_lines_are_kept_and_only_missing_ones_added(tmp_path: Path) -> None:
    env_file = tmp_path / ".env"
    env_file.write_text("# mine\nLOG_LEVEL=DEBUG\nJWT_SECRET=my-own-secret-kept\nADMIN_PASSWORD=\n")
    env_file.chmod(0o644)
    generated, _ = _script().ensure_secrets(env_file, environ={})
    assert sorted(generated) == sorted(set(SECRETS) - {"JWT_SECRET"})
    text = env_file.read_text()
    assert text.startswith("# mine\nLOG_LEVEL=DEBUG\nJWT_SECRET=my-own-secret-kept\n")
    assert re.search(r"^ADMIN_PASSWORD=\S{20,}$", text, re.M)  # the empty one filled in place
    assert text.count("ADMIN_PASSWORD=") == 1
    assert _mode(env_file) == 0o600


def test_a_second_run_changes_nothing(tmp_path: Path) -> None:
    env_file = tmp_path / ".env"
    assert _run(env_file).returncode == 0
    before = env_file.read_bytes()
    again = _run(env_file)
    assert again.returncode == 0 and "nothing generated" in again.stdout
    assert env_file.read_bytes() == before and _mode(env_file) == 0o600


def test_secrets_set_in_the_environment_are_not_written(tmp_path: Path) -> None:
    env_file = tmp_path / ".env"
    done = _run(env_file, JWT_SECRET="from-the-shell-" + "k" * 40)
    assert done.returncode == 0 and "JWT_SECRET" in done.stdout
    assert "JWT_SECRET" not in _script().parse_env(env_file.read_text())


def test_refuses_to_write_through_a_symlink(tmp_path: Path) -> None:
    target = tmp_path / "elsewhere"
    target.write_text("UNTOUCHED=1\n")
    link = tmp_path / ".env"
    link.symlink_to(target)
    done = _run(link)
    assert done.returncode == 2
    assert "symlink" in done.stderr
    assert target.read_text() == "UNTOUCHED=1\n" and link.is_symlink()


def test_refuses_a_directory_in_place_of_the_env_file(tmp_path: Path) -> None:
    (tmp_path / ".env").mkdir()
    done = _run(tmp_path / ".env")
    assert done.returncode == 2 and "not a regular file" in done.stderr


# --- the compose file and the launchers -----------------------------------------------------


@pytest.fixture(scope="module")
def compose_text() -> str:
    return (REPO_ROOT / "docker-compose.yml").read_text()


def test_compose_has_no_default_for_any_secret(compose_text: str) -> None:
    for name in SECRETS:
        uses = re.findall(r"\$\{" + name + r"(:?[-?=+]?)", compose_text)
        assert uses, name
        assert set(uses) == {":?"}, (name, uses)  # compose refuses to run without it
    for old in ("cairn-local-only", "local-only-jwt-secret-change-me"):
        assert old not in compose_text


def test_compose_publishes_ports_on_loopback_unless_bind_address_says_so(
    compose_text: str,
) -> None:
    services = yaml.safe_load(compose_text)["services"]
    published = [p for s in services.values() for p in s.get("ports", [])
                 if "observability" not in s.get("profiles", [])]  # those: 127.0.0.1 always
    assert len(published) == 4  # api, web app, console, minio console
    for port in published:
        assert str(port).startswith("${BIND_ADDRESS:-127.0.0.1}:"), port


def test_console_gets_no_server_side_api_key(compose_text: str) -> None:
    console = yaml.safe_load(compose_text)["services"]["console"]
    assert "CAIRN_API_KEY" not in (console.get("environment") or {})


def test_start_docker_and_make_up_generate_secrets_before_compose() -> None:
    start = (REPO_ROOT / "start.sh").read_text()
    block = start[start.index('if [ "$MODE" = docker ]'):]
    assert block.index("docker_secrets.py") < block.index("docker compose up")
    makefile = (REPO_ROOT / "Makefile").read_text()
    recipe = makefile[makefile.index("\nup:"):].split("\n\n", 1)[0].split("\n")[2:]
    assert "docker_secrets.py" in recipe[0] and "docker compose up" in recipe[1], recipe
