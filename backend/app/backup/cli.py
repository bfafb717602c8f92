"""`cairn backup DEST` and `cairn restore SRC` (with the installation's settings)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from app.backup import service

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from app.storage import ObjectStore


def _backup(args: argparse.Namespace) -> int:
    def backup(engine: Engine, store: ObjectStore) -> str:
        manifest = service.backup(engine, store, Path(args.dest))
        return f"backed up {service.describe(manifest)} to {args.dest}"

    return _run("backup", backup)


def _restore(args: argparse.Namespace) -> int:
    def restore(engine: Engine, store: ObjectStore) -> str:
        counts = service.restore(engine, store, Path(args.src))
        return f"restored {sum(counts.values())} rows in {len(counts)} tables from {args.src}"

    return _run("restore", restore)


def _run(command: str, action: Callable[[Engine, ObjectStore], str]) -> int:
    """Run a backup or restore against this installation's database and object store."""
    from app.core.db import get_engine
    from app.storage import get_store

    try:
        print(action(get_engine(), get_store()))
    except service.BackupError as exc:
        print(f"cairn {command}: {exc.message}", file=sys.stderr)
        return 1
    return 0


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    b = sub.add_parser("backup", help="a consistent snapshot: database + originals + manifest")
    b.add_argument("dest", help="a new (or empty) directory")
    b.set_defaults(func=_backup)
    r = sub.add_parser("restore", help="restore a backup into an empty installation")
    r.add_argument("src", help="a directory written by cairn backup")
    r.set_defaults(func=_restore)
