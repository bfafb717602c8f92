"""`cairn`: the operator's command line.

  cairn migrate          apply database migrations (alembic upgrade head)
  cairn export-model     export the bundled embedding model to ONNX (once)
  cairn services         run embedded Postgres + Redis until interrupted (start.sh uses it)
  cairn reconcile        re-enqueue stuck documents now
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
    from alembic import command
    from alembic.config import Config

    command.upgrade(Config(str(BACKEND_DIR / "alembic.ini")), "head")
    return 0


def cmd_export_model(_: argparse.Namespace) -> int:
    from app.core.config import get_settings
    from app.providers.embeddings.local_model import export_onnx

    settings = get_settings()
    if settings.embedding_provider != "local" or settings.embedding_runtime != "onnx":
        print("nothing to export for this embedding configuration")
        return 0
    path = export_onnx(settings.embedding_model, settings.models_dir)
    print(f"ONNX model ready: {path}")
    return 0


def cmd_services(args: argparse.Namespace) -> int:
    """Start embedded Postgres and Redis, write their URLs to an env file, wait."""
    from app.core.embedded import start_postgres, start_redis

    data = Path(args.data_dir).resolve()
    pg = start_postgres(data / "postgres")
    redis = start_redis(data / "redis", port=args.redis_port)
    env_file = Path(args.env_file)
    env_file.parent.mkdir(parents=True, exist_ok=True)
    env_file.write_text(f"DATABASE_URL={pg.url}\nREDIS_URL={redis.url}\n")
    print(f"postgres: {pg.url}\nredis:    {redis.url}", flush=True)

    stopping = False

    def _stop(*_: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    while not stopping:
        time.sleep(0.5)
    redis.stop()
    pg.stop()
    env_file.unlink(missing_ok=True)
    return 0


def cmd_reconcile(_: argparse.Namespace) -> int:
    from app.documents.tasks import reconcile_documents

    print(reconcile_documents())
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
    services.set_defaults(func=cmd_services)
    sub.add_parser("reconcile", help="re-enqueue stuck documents").set_defaults(func=cmd_reconcile)
    _register_extensions(sub)
    args = parser.parse_args(argv)
    return int(args.func(args))


def _register_extensions(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Subcommands owned by other domains (e.g. `cairn eval`) register themselves here."""
    try:
        from app.eval.cli import register
    except ImportError:
        return
    register(sub)


if __name__ == "__main__":
    sys.exit(main())
