"""`cairn eval <dir>`: the subcommand, its options and its exit codes.

Exit codes: 0 done; 1 Cairn failed (would not start, an API error, ingest stalled);
2 unusable input (not a BEIR folder, malformed file, bad options, unsupported mode);
130 interrupted (Ctrl-C or SIGTERM; a platform this run started is stopped first).
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import time
from pathlib import Path

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2
MODES = ("vector", "lexical", "hybrid")


def _modes(raw: str) -> list[str]:
    modes = [m.strip() for m in raw.split(",") if m.strip()]
    unknown = [m for m in modes if m not in MODES]
    if not modes or unknown:
        raise argparse.ArgumentTypeError(f"modes are a comma list of {', '.join(MODES)}")
    return list(dict.fromkeys(modes))


def _positive(raw: str) -> int:
    value = int(raw)
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value


def _interrupt(signum: int, _frame: object) -> None:
    raise KeyboardInterrupt(f"signal {signum}")


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = sub.add_parser(
        "eval",
        help="measure retrieval quality on a BEIR dataset",
        description="Ingest a BEIR-format dataset into Cairn through its API, run every judged "
        "query in each search mode and report nDCG@10, Recall@100 and MRR@10. Without "
        "--api-url a throwaway Cairn (Postgres, Redis, API, worker) is started and removed.",
    )
    parser.add_argument(
        "dataset", type=Path, nargs="?",
        help="folder with corpus.jsonl[.gz], queries.jsonl, qrels (not with --eval-set)",
    )
    parser.add_argument("--api-url", help="a running Cairn (default: start one for this run)")
    parser.add_argument(
        "--api-key",
        default=os.environ.get("CAIRN_API_KEY"),
        help="API key for --api-url (default: $CAIRN_API_KEY)",
    )
    parser.add_argument(
        "--modes",
        type=_modes,
        default=list(MODES),
        help="comma list of vector,lexical,hybrid (default: all)",
    )
    parser.add_argument("--k", type=_positive, default=100, help="results per query (max 100)")
    parser.add_argument("--collection", help="collection name (default: eval-<dataset>-<time>)")
    parser.add_argument(
        "--eval-set",
        help="run this golden set stored on the server for --collection (needs --api-url); "
        "no dataset is uploaded",
    )
    parser.add_argument(
        "--ignore-identical-ids",
        action="store_true",
        help="drop a hit whose id equals the query id (BEIR convention)",
    )
    parser.add_argument(
        "--limit-queries", type=_positive, help="evaluate the first N judged queries"
    )
    parser.add_argument("--batch-size", type=_positive, default=64, help="files per upload request")
    parser.add_argument("--concurrency", type=_positive, default=4, help="parallel requests")
    parser.add_argument(
        "--output", type=Path, help="JSON report (default: eval-report-<dataset>.json)"
    )
    parser.add_argument(
        "--keep",
        action="store_true",
        help="keep the ingested collection (and a started platform's data dir)",
    )
    parser.add_argument("--no-progress", action="store_true", help="no progress bars")
    parser.add_argument(
        "--sweep",
        action="store_true",
        help="also score a small grid of fusion settings (weighted min-max, z-score, RRF) "
        "from each query's vector and lexical lists",
    )
    parser.set_defaults(func=cmd_eval)


def _stored(args: argparse.Namespace) -> int:
    import json

    from app.eval.client import ApiError
    from app.eval.stored import StoredSetError, render_stored, run_stored

    if args.dataset is not None or not args.api_url or not args.collection:
        print("error: --eval-set takes --api-url and --collection, and no dataset",
              file=sys.stderr)  # fmt: skip
        return EXIT_USAGE
    try:
        report = run_stored(args.api_url, args.api_key, args.collection, args.eval_set,
                            args.modes)  # fmt: skip
    except StoredSetError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except ApiError as exc:
        print(f"error: Cairn API: {exc}", file=sys.stderr)
        return EXIT_FAILED
    print(render_stored(report))
    if args.output:
        args.output.write_text(json.dumps(report, indent=2) + "\n")
        print(f"report: {args.output}")
    return EXIT_OK


def cmd_eval(args: argparse.Namespace) -> int:
    from app.eval.client import ApiError
    from app.eval.dataset import DatasetError
    from app.eval.report import render, write_json
    from app.eval.runner import EvalOptions, UsageError, run_eval

    if args.eval_set is not None:
        return _stored(args)
    if args.dataset is None:
        print("error: give a dataset folder, or --eval-set with --collection", file=sys.stderr)
        return EXIT_USAGE
    if args.k > 100:
        print("error: --k is at most 100 (the search API's limit)", file=sys.stderr)
        return EXIT_USAGE
    options = EvalOptions(
        dataset_dir=args.dataset,
        api_url=args.api_url,
        api_key=args.api_key,
        modes=args.modes,
        k=args.k,
        collection=args.collection,
        ignore_identical_ids=args.ignore_identical_ids,
        limit_queries=args.limit_queries,
        batch_size=args.batch_size,
        concurrency=args.concurrency,
        output=args.output,
        keep=args.keep,
        progress=not args.no_progress,
        sweep=args.sweep,
    )
    started = time.perf_counter()
    signal.signal(signal.SIGTERM, _interrupt)  # so a started platform is torn down
    try:
        report = run_eval(options)
    except (DatasetError, UsageError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except ApiError as exc:
        print(f"error: Cairn API: {exc}", file=sys.stderr)
        return EXIT_FAILED
    except KeyboardInterrupt:
        print("interrupted; everything this run started has been stopped", file=sys.stderr)
        return 130
    except Exception as exc:
        from app.eval.platform import PlatformError

        if isinstance(exc, PlatformError):
            print(f"error: could not start Cairn: {exc}", file=sys.stderr)
            return EXIT_FAILED
        raise
    output = args.output or Path.cwd() / f"eval-report-{report['dataset']['name']}.json"
    write_json(report, output)
    render(report)
    if "sweep" in report:
        from app.eval.sweep import render_sweep

        print(render_sweep(report["sweep"], report["modes"].get("hybrid")))
    print(f"report: {output}  (wall time {time.perf_counter() - started:.1f}s)")
    return EXIT_OK
