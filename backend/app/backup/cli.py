"""`cairn backup DEST` and `cairn restore SRC` (with the installation's settings)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from app.backup import service


def _backup(args: argparse.Namespace) -> int:
    from app.core.db import get_engine
    from app.storage import get_store

    try:
        manifest = service.backup(get_engine(), get_store(), Path(args.dest))
    except service.BackupError as exc:
        print(f"cairn backup: {exc.message}", file=sys.stderr)
        return 1
    print(f"backed up {service.describe(manifest)} to {args.dest}")
    return 0


def _restore(args: argparse.Namespace) -> int:
    from app.core.db import get_engine
    from app.storage import get_store

    try:
        counts = service.restore(get_engine(), get_store(), Path(args.src))
    except service.BackupError as exc:
        print(f"cairn restore: {exc.message}", file=sys.stderr)
        return 1
    print(f"restored {sum(counts.values())} rows in {len(counts)} tables from {args.src}")
    return 0


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    b = sub.add_parser("backup", help="a consistent snapshot: database + originals + manifest")
    b.add_argument("dest", help="a new (or empty) directory")
    b.set_defaults(func=_backup)
    r = sub.add_parser("restore", help="restore a backup into an empty installation")
    r.add_argument("src", help="a directory written by cairn backup")
    r.set_defaults(func=_restore)
