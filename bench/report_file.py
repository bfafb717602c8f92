"""Where a benchmark writes its JSON: `--output`, or bench/results/<name>[-<label>]-<UTC
time>.json (git-ignored)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]


def write_report(name: str, report: dict[str, Any], output: Path | None = None,
                 label: str | None = None) -> Path:
    """Write `report` as indented JSON and say where."""
    stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
    out = output or REPO / "bench" / "results" / f"{name}-{label + '-' if label else ''}{stamp}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=2) + "\n")
    print(f"results: {out}", flush=True)
    return out
