"""What one run of the local ONNX embedder costs, by batch shape: `make bench-embed-cost`.

The local embedder cuts each call into batches by a cost model (app/providers/embeddings/
onnx.py, `run_cost`): a fixed cost per run, then every padded token, dearer as the batch
widens and as it grows. This measures that cost on this machine, for the configured model,
on the one-thread session the worker's runs use: for each batch of `texts` x `width` tokens
(synthetic ids, all attended), the least thread CPU of `--repeats` runs. It fits
t = a + b*N + c*N*width + d*N^2 (N = texts x width, relative error minimised) and prints the
constants in the model's units (one token's work, b): RUN_TOKENS = a/b, WIDTH_SCALE = b/c,
SIZE_SCALE = b/d, beside the ones onnx.py uses, with the fit's largest error on each. Writes
bench/results/embed_cost-<time>.json (`runs`: texts, width, ms; `fit`; `used`).

    cd backend && PYTHONPATH=. ../.venv/bin/python ../bench/embed_cost.py
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path
from typing import Any

import numpy as np
from report_file import write_report


def measure(texts_list: list[int], widths: list[int], repeats: int) -> list[dict[str, Any]]:
    from app.providers.embeddings import get_embedder
    from app.providers.embeddings.onnx import OnnxEmbedder

    embedder = get_embedder()
    if not isinstance(embedder, OnnxEmbedder):
        raise SystemExit("the configured embedder is not the local ONNX one")
    session = embedder._session(1)  # the worker's one-thread runs
    runs = []
    for width in widths:
        for texts in texts_list:
            ids = np.full((texts, width), 2000, dtype=np.int64)  # one common word piece
            ids[:, 0], ids[:, -1] = 101, 102  # [CLS] ... [SEP]
            feed = {"input_ids": ids, "attention_mask": np.ones_like(ids),
                    "token_type_ids": np.zeros_like(ids)}
            session.run(None, feed)
            best = float("inf")
            for _ in range(repeats):
                start = time.thread_time()  # one-thread session: the run is this thread's
                session.run(None, feed)
                best = min(best, time.thread_time() - start)
            runs.append({"texts": texts, "width": width, "ms": round(best * 1000, 3)})
            print(f"{texts:>5} x {width:<5} {best * 1000:8.2f} ms  "
                  f"{best * 1e6 / (texts * width):6.1f} us/token", flush=True)
    return runs


def fit(runs: list[dict[str, Any]]) -> dict[str, float]:
    n = np.array([r["texts"] * r["width"] for r in runs], dtype=float)
    w = np.array([r["width"] for r in runs], dtype=float)
    t = np.array([r["ms"] for r in runs], dtype=float)
    cols = np.stack([np.ones_like(n), n, n * w, n * n], axis=1)
    (a, b, c, d), *_ = np.linalg.lstsq(cols / t[:, None], np.ones_like(t), rcond=None)
    worst = float(np.max(np.abs(cols @ np.array([a, b, c, d]) - t) / t))
    return {"us_per_token": round(b * 1000, 2), "RUN_TOKENS": round(a / b, 2),
            "WIDTH_SCALE": round(b / c), "SIZE_SCALE": round(b / d),
            "max_rel_error": round(worst, 3)}


def used_error(runs: list[dict[str, Any]], us_per_token: float) -> float:
    """The largest relative error of onnx.py's constants on these runs (scaled by the
    measured cost of one token)."""
    from app.providers.embeddings.onnx import run_cost

    return max(abs(run_cost(r["texts"], r["width"]) * us_per_token / 1000 - r["ms"]) / r["ms"]
               for r in runs)


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--texts", default="1,2,3,4,6,8,16", help="batch sizes")
    p.add_argument("--widths", default="16,32,64,96,128,160,192,224,256", help="in tokens")
    p.add_argument("--repeats", type=int, default=5)
    p.add_argument("--output", type=Path, default=None)
    args = p.parse_args()
    from app.core.config import get_settings
    from app.providers.embeddings.onnx import RUN_TOKENS, SIZE_SCALE, WIDTH_SCALE

    runs = measure([int(x) for x in args.texts.split(",")],
                   [int(x) for x in args.widths.split(",")], args.repeats)
    fitted = fit(runs)
    used = {"RUN_TOKENS": RUN_TOKENS, "WIDTH_SCALE": WIDTH_SCALE, "SIZE_SCALE": SIZE_SCALE,
            "max_rel_error": round(used_error(runs, fitted["us_per_token"]), 3)}
    print(f"\n{'':14}{'RUN_TOKENS':>12}{'WIDTH_SCALE':>13}{'SIZE_SCALE':>12}{'max error':>11}")
    for name, row in (("fitted here", fitted), ("onnx.py uses", used)):
        print(f"{name:14}{row['RUN_TOKENS']:>12}{row['WIDTH_SCALE']:>13}"
              f"{row['SIZE_SCALE']:>12}{row['max_rel_error']:>11.1%}")
    print(f"one token: {fitted['us_per_token']} us of one thread")
    write_report("embed_cost", {"model": get_settings().embedding_model, "runs": runs,
                                "fit": fitted, "used": used}, args.output)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
