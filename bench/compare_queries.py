"""bench-compare's query run: every query through every mode of both sides, interleaved.

For each query, each mode runs once, in an order that rotates from query to query, so a
burst of load from the machine's neighbours hits every mode alike (the modes are not run one
after the other). Cairn is asked over loopback HTTP (its client-measured latency); LlamaIndex
in its own process, which times `retriever.retrieve` itself (no HTTP, no serialisation).
"""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Any

from app.eval.client import CairnClient
from app.eval.metrics import percentile
from app.eval.queries import HitMapper, build_body, hits_to_ranking

CAIRN_MODES = ("vector", "hybrid")


class LlamaIndexProcess:
    """The LlamaIndex side (compare_llamaindex.py) after its ingest: one JSON line per ask."""

    def __init__(self, argv: list[str], env: dict[str, str]) -> None:
        self.proc = subprocess.Popen(argv, env=env, stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, text=True)
        first = self._read()  # blocks until its ingest is done
        self.ingest: dict[str, Any] = first["ingest"]
        self.modes: list[str] = first["modes"]

    def _read(self) -> dict[str, Any]:
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        if not line:
            code = self.proc.wait()
            raise SystemExit(f"the LlamaIndex side stopped (exit {code}); its errors are above")
        result: dict[str, Any] = json.loads(line)
        return result

    def ask(self, mode: str, query: str) -> tuple[list[str], float]:
        assert self.proc.stdin is not None
        self.proc.stdin.write(json.dumps({"mode": mode, "query": query}) + "\n")
        self.proc.stdin.flush()
        reply = self._read()
        return list(reply["ranking"]), float(reply["ms"])

    def close(self) -> None:
        if self.proc.stdin is not None:
            self.proc.stdin.close()
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


def run(client: CairnClient, mapper: HitMapper, llama: LlamaIndexProcess,
        queries: dict[str, str], *, collection: str, k: int, warmup: int) -> dict[str, Any]:
    """{"cairn": {mode: run}, "llamaindex": {mode: run}}; a run has rankings, latencies_ms,
    p50_ms and p95_ms (and Cairn's server-side took_ms p50)."""
    caps = client.search_capabilities()
    modes = [("cairn", m) for m in CAIRN_MODES] + [("llamaindex", m) for m in llama.modes]
    runs: dict[tuple[str, str], dict[str, Any]] = {
        key: {"rankings": {}, "latencies_ms": [], "server_ms": []} for key in modes
    }

    def one(side: str, mode: str, qid: str, text: str, record: bool) -> None:
        if side == "cairn":
            body = build_body(text, mode, collection, k, caps)
            response, ms = client.search(body)
            ranking = hits_to_ranking(response.get("results", []), mapper, exclude=None)
            took = response.get("took_ms")
        else:
            ranking, ms = llama.ask(mode, text)
            took = None
        if record:
            run = runs[(side, mode)]
            run["rankings"][qid] = ranking
            run["latencies_ms"].append(ms)
            if isinstance(took, int | float):
                run["server_ms"].append(float(took))

    items = list(queries.items())
    for qid, text in items[:warmup]:
        for side, mode in modes:
            one(side, mode, qid, text, record=False)
    print(f"{len(items)} queries x {len(modes)} modes, interleaved ...", file=sys.stderr,
          flush=True)
    for i, (qid, text) in enumerate(items):
        shift = i % len(modes)
        for side, mode in modes[shift:] + modes[:shift]:
            one(side, mode, qid, text, record=True)
    out: dict[str, Any] = {"cairn": {}, "llamaindex": {}}
    for (side, mode), run in runs.items():
        lat, server = run.pop("latencies_ms"), run.pop("server_ms")
        run["latencies_ms"] = lat
        run["p50_ms"] = round(percentile(lat, 50), 2)
        run["p95_ms"] = round(percentile(lat, 95), 2)
        if server:
            run["server_p50_ms"] = round(percentile(server, 50), 2)
        out[side][mode] = run
    return out
