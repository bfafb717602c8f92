"""Helpers of ./start.sh and start.bat (standard library only: start.bat reads .env with it
before anything is installed).

  python scripts/local_setup.py admin FILE          create FILE with ADMIN_EMAIL and a random
                                                   ADMIN_PASSWORD unless it holds a password
  python scripts/local_setup.py api-key FILE URL    make sure FILE holds a CAIRN_API_KEY that
                                                   the API at URL accepts (creates one by
                                                   logging in with ADMIN_EMAIL/ADMIN_PASSWORD)
  python scripts/local_setup.py cmd-env FILE        print FILE (KEY=value lines) as cmd.exe
                                                   `set "KEY=value"` lines, for start.bat
  python scripts/local_setup.py launch PIDFILE LOG CWD CMD...
                                                   start CMD detached (output to LOG), write
                                                   its pid to PIDFILE, return (start.bat)
  python scripts/local_setup.py wait-ready URL SECONDS
                                                   wait until URL answers 200 (exit 1 if not)
  python scripts/local_setup.py port-free HOST PORT exit 1 if HOST:PORT cannot be bound
  python scripts/local_setup.py stamp TEXT FILE...  print a hash of this Python, TEXT and the
                                                   FILEs (the install stamp)

FILE is written with mode 600. Exit code 1 when no key could be made.
"""

from __future__ import annotations

import hashlib
import json
import os
import secrets
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

ADMIN_EMAIL = "admin@cairn.local"


def read_env(path: Path) -> dict[str, str]:
    values: dict[str, str] = {}
    if path.exists():
        for line in path.read_text().splitlines():
            if "=" in line and not line.lstrip().startswith("#"):
                key, _, value = line.partition("=")
                value = value.strip()
                if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
                    value = value[1:-1]
                values[key.strip()] = value
    return values


def write_env(path: Path, values: dict[str, str]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.writelines(f"{key}={value}\n" for key, value in values.items())
    os.replace(tmp, path)


def call(base: str, method: str, url: str, body: Any = None, token: str | None = None) -> Any:
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(base + url, data=data, method=method, headers=headers)
    with urllib.request.urlopen(request, timeout=15) as response:
        return json.load(response)


def admin(path: Path) -> int:
    if not read_env(path).get("ADMIN_PASSWORD"):
        write_env(path, {"ADMIN_EMAIL": ADMIN_EMAIL, "ADMIN_PASSWORD": secrets.token_urlsafe(18)})
    return 0


def api_key(path: Path, base: str) -> int:
    values = read_env(path)
    key = os.environ.get("CAIRN_API_KEY") or values.get("CAIRN_API_KEY")
    if key:
        try:
            call(base, "GET", "/api/v1/users/me", token=key)
            return 0
        except urllib.error.HTTPError:
            pass  # revoked, or from a database that was wiped: make a new one
    email = os.environ.get("ADMIN_EMAIL") or values.get("ADMIN_EMAIL")
    password = os.environ.get("ADMIN_PASSWORD") or values.get("ADMIN_PASSWORD")
    if not email or not password:
        print("ADMIN_EMAIL and ADMIN_PASSWORD are not set", file=sys.stderr)
        return 1
    try:
        tokens = call(base, "POST", "/api/v1/auth/login", {"email": email, "password": password})
        created = call(base, "POST", "/api/v1/api-keys", {"name": "local (start.sh)"},
                       token=tokens["access_token"])
    except urllib.error.HTTPError as exc:
        print(f"could not make an API key as {email}: HTTP {exc.code} {exc.read()[:300]!r}",
              file=sys.stderr)
        return 1
    except urllib.error.URLError as exc:
        print(f"could not reach the API at {base}: {exc}", file=sys.stderr)
        return 1
    values["CAIRN_API_KEY"] = created["key"]
    write_env(path, values)
    return 0


def cmd_env(path: Path) -> int:
    for key, value in read_env(path).items():
        print(f'set "{key}={value}"')
    return 0


def launch(pid_file: Path, log: Path, cwd: str, command: list[str]) -> int:
    log.parent.mkdir(parents=True, exist_ok=True)
    with open(log, "ab") as out:
        if os.name == "nt":
            flags = subprocess.CREATE_NEW_PROCESS_GROUP | subprocess.DETACHED_PROCESS  # type: ignore[attr-defined,unused-ignore]
            child = subprocess.Popen(command, cwd=cwd, stdout=out, stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL, creationflags=flags)
        else:
            child = subprocess.Popen(command, cwd=cwd, stdout=out, stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL, start_new_session=True)
    pid_file.parent.mkdir(parents=True, exist_ok=True)
    pid_file.write_text(f"{child.pid}\n")
    return 0


def wait_ready(url: str, seconds: float) -> int:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=3) as response:
                if response.status == 200:
                    return 0
        except (urllib.error.URLError, OSError):
            pass
        time.sleep(1)
    return 1


def port_free(host: str, port: int) -> int:
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return 1
    return 0


def stamp(text: str, paths: list[str]) -> int:
    digest = hashlib.sha256(sys.version.encode())
    digest.update(text.encode())
    for path in paths:
        digest.update(Path(path).name.encode())
        digest.update(Path(path).read_bytes())
    print(digest.hexdigest())
    return 0


def main(argv: list[str]) -> int:
    if len(argv) >= 2 and argv[0] == "stamp":
        return stamp(argv[1], argv[2:])
    if len(argv) == 3 and argv[0] == "port-free":
        return port_free(argv[1], int(argv[2]))
    if len(argv) >= 5 and argv[0] == "launch":
        return launch(Path(argv[1]), Path(argv[2]), argv[3], argv[4:])
    if len(argv) == 3 and argv[0] == "wait-ready":
        return wait_ready(argv[1], float(argv[2]))
    if len(argv) >= 2 and argv[0] == "cmd-env":
        return cmd_env(Path(argv[1]))
    if len(argv) >= 2 and argv[0] == "admin":
        return admin(Path(argv[1]))
    if len(argv) >= 3 and argv[0] == "api-key":
        return api_key(Path(argv[1]), argv[2].rstrip("/"))
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
