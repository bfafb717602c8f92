"""The evaluation report: a table on the terminal and a JSON file."""

from __future__ import annotations

import json
import os
import platform
import sys
from pathlib import Path
from typing import Any, TextIO

from app.eval.metrics import METRICS

LABELS = {"ndcg@10": "nDCG@10", "recall@100": "Recall@100", "mrr@10": "MRR@10"}


def machine_info() -> dict[str, Any]:
    return {
        "cpu_count": os.cpu_count(),
        "usable_cpus": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None,
        "platform": platform.platform(),
        "machine": platform.machine(),
        "python": platform.python_version(),
    }


def table_rows(report: dict[str, Any]) -> tuple[list[str], list[list[str]]]:
    header = ["mode", *(LABELS[m] for m in METRICS), "p50 ms", "p95 ms", "queries", "errors"]
    rows = []
    for mode, result in report["modes"].items():
        metrics = result["metrics"]
        latency = result["latency"]
        rows.append(
            [
                mode,
                *(f"{metrics[m]:.4f}" for m in METRICS),
                _ms(latency["p50_ms"]),
                _ms(latency["p95_ms"]),
                str(result["queries"]),
                str(result["errors"]),
            ]
        )
    return header, rows


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f}"


def render(report: dict[str, Any], stream: TextIO | None = None) -> None:
    stream = stream or sys.stdout
    header, rows = table_rows(report)
    ingest = report["ingest"]
    title = (
        f"{report['dataset']['name']}: {report['dataset']['queries_evaluated']} queries, "
        f"{ingest['corpus_documents']} documents ingested in {ingest['wall_s']:.1f}s "
        f"({ingest['docs_per_s']:.1f} docs/s), {report['machine']['cpu_count']} CPUs"
    )
    try:
        from rich.console import Console
        from rich.table import Table
    except ImportError:
        _render_plain(title, header, rows, stream)
        return
    table = Table(title=title)
    for i, name in enumerate(header):
        table.add_column(name, justify="left" if i == 0 else "right")
    for row in rows:
        table.add_row(*row)
    Console(file=stream, width=max(100, len(title) + 4)).print(table)


def _render_plain(title: str, header: list[str], rows: list[list[str]], stream: TextIO) -> None:
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]

    def line(cells: list[str]) -> str:
        return "  ".join(
            c.ljust(w) if i == 0 else c.rjust(w)
            for i, (c, w) in enumerate(zip(cells, widths, strict=True))
        )

    print(title, file=stream)
    print(line(header), file=stream)
    print("  ".join("-" * w for w in widths), file=stream)
    for row in rows:
        print(line(row), file=stream)


def write_json(report: dict[str, Any], path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(json.dumps(report, indent=2, sort_keys=False, allow_nan=False) + "\n")
    tmp.replace(path)
