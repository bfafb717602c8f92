"""`python app/launcher/envexec.py [--wait-for FILE [--timeout S]] [--optional FILE]... -- CMD...`

supervisord fixes a program's environment when supervisord starts, but some values exist only
later: the URLs of the embedded databases (written by `cairn services`) and the console's API
key (written by ./start.sh once the API is up). This loads those KEY=value files over the
environment, then replaces itself with COMMAND (same pid, so supervisord's signals reach it).
--wait-for waits (up to --timeout seconds, default 120) for a file that must exist; --optional
files are read if present. Standard library only.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path


def read_env_file(path: Path) -> dict[str, str]:
    values: dict[str, str] = {}
    for line in path.read_text().splitlines():
        if "=" in line and not line.lstrip().startswith("#"):
            key, _, value = line.partition("=")
            value = value.strip()
            if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
                value = value[1:-1]
            values[key.strip()] = value
    return values


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="envexec")
    parser.add_argument("--wait-for", type=Path)
    parser.add_argument("--timeout", type=float, default=120.0)
    parser.add_argument("--optional", type=Path, action="append", default=[])
    parser.add_argument("command", nargs=argparse.REMAINDER)
    args = parser.parse_args(argv)
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    if not command:
        parser.error("no command given")
    if args.wait_for is not None:
        deadline = time.monotonic() + args.timeout
        while not args.wait_for.exists():
            if time.monotonic() > deadline:
                print(f"envexec: {args.wait_for} did not appear", file=sys.stderr)
                return 1
            time.sleep(0.2)
        os.environ.update(read_env_file(args.wait_for))
    for path in args.optional:
        if path.exists():
            os.environ.update(read_env_file(path))
    sys.stdout.flush()
    os.execvp(command[0], command)


if __name__ == "__main__":
    sys.exit(main())
