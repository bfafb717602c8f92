"""`cairn eval` end to end on the tiny BEIR fixture, through the real API and a real worker.

The lexical (BM25) rankings of the fixture are known by construction (see
fixtures/beir_tiny/README.md), so the lexical metrics are checked against a hand computation:

  q1   ranking volcano(2), lava-lamp(0); judged volcano 2, glacier 1, lava-lamp 0
  q2   ranking coffee(1)
  bees ranking bees(-), pollination(1)             (bees dropped with --ignore-identical-ids)
  q4   ranking saturn(-), saturn-copy(2)           (one Cairn document, identical bytes)
  q5   no hits                                     (counts as zero)
"""

from __future__ import annotations

import json
import math
import shutil
from pathlib import Path
from typing import Any

import httpx
import pytest

from app.cli import main as cairn
from app.eval.runner import EvalOptions, run_eval

FIXTURE = Path(__file__).parent / "fixtures" / "beir_tiny"
L2 = math.log2
NDCG = {
    "q1": 2 / (2 + 1 / L2(3)),
    "q2": 1.0,
    "bees": 1 / L2(3),
    "q4": (2 / L2(3)) / 2,
    "q5": 0.0,
}
MRR = {"q1": 1.0, "q2": 1.0, "bees": 0.5, "q4": 0.5, "q5": 0.0}
RECALL = {"q1": 0.5, "q2": 1.0, "bees": 1.0, "q4": 1.0, "q5": 0.0}


def mean(values: dict[str, float]) -> float:
    return sum(values.values()) / len(values)


def evaluate(api_url: str, api_key: str, **options: Any) -> dict[str, Any]:
    return run_eval(
        EvalOptions(
            dataset_dir=options.pop("dataset_dir", FIXTURE),
            api_url=api_url,
            api_key=api_key,
            progress=False,
            poll_s=0.2,
            **options,
        )
    )


def test_all_modes_run_and_lexical_metrics_match_the_hand_computation(
    api_url: str, api_key: str
) -> None:
    report = evaluate(api_url, api_key, modes=["vector", "lexical", "hybrid"])

    lexical = report["modes"]["lexical"]
    assert lexical["metrics"]["ndcg@10"] == pytest.approx(mean(NDCG), abs=1e-5)
    assert lexical["metrics"]["mrr@10"] == pytest.approx(mean(MRR), abs=1e-5)
    assert lexical["metrics"]["recall@100"] == pytest.approx(mean(RECALL), abs=1e-5)
    for qid, expected in NDCG.items():
        assert lexical["per_query"][qid]["ndcg@10"] == pytest.approx(expected, abs=1e-5), qid
    assert lexical["queries_without_hits"] == 1  # q5
    # Documents returned: 2 + 1 + 2 + 1 (saturn and its copy are one document) + 0.
    assert lexical["mean_results_per_query"] == pytest.approx(6 / 5)
    assert lexical["min_results_per_query"] == 0
    for mode in ("vector", "hybrid"):
        result = report["modes"][mode]
        assert result["errors"] == 0 and result["queries"] == 5
        assert result["per_query"]["q2"]["ndcg@10"] == pytest.approx(1.0)  # espresso -> coffee
        assert result["latency"]["p50_ms"] > 0
    # Eleven corpus entries, two identical: ten Cairn documents, all ingested (also "bmx",
    # whose first bytes "BM" are a BMP signature to a naive sniffer).
    assert report["ingest"].items() >= {
        "corpus_documents": 11, "identical_documents": 1, "cairn_documents": 10,
        "ready": 10, "failed": 0, "refused": 0,
    }.items()  # fmt: skip
    assert report["ingest"]["docs_per_s"] > 0
    assert report["config"]["server_embedding_model"]
    assert report["machine"]["cpu_count"] >= 1
    # Against a user's Cairn, the documents it created are removed afterwards.
    assert report["run"]["documents_deleted_after"] == 10
    left = httpx.get(
        f"{api_url}/api/v1/documents",
        params={"collection": report["run"]["collection"]},
        headers={"Authorization": f"Bearer {api_key}"},
    )
    assert left.status_code == 200 and left.json()["total"] == 0


def test_ignore_identical_ids_drops_the_query_s_own_document(api_url: str, api_key: str) -> None:
    report = evaluate(api_url, api_key, modes=["lexical"], ignore_identical_ids=True, keep=True)
    lexical = report["modes"]["lexical"]
    assert lexical["per_query"]["bees"] == {"ndcg@10": 1.0, "recall@100": 1.0, "mrr@10": 1.0}
    assert lexical["metrics"]["mrr@10"] == pytest.approx(mean(MRR | {"bees": 1.0}), abs=1e-5)
    # Kept: the collection still holds its documents.
    assert report["run"]["documents_deleted_after"] == 0
    kept = httpx.get(
        f"{api_url}/api/v1/documents",
        params={"collection": report["run"]["collection"], "status": "ready"},
        headers={"Authorization": f"Bearer {api_key}"},
    )
    assert kept.json()["total"] == 10


def test_cli_reports_and_skips_judged_queries_missing_from_queries_file(
    api_url: str, api_key: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = tmp_path / "tiny-ghost"
    shutil.copytree(FIXTURE, data)
    with (data / "qrels" / "test.tsv").open("a") as qrels:
        qrels.write("ghost\tvolcano\t1\n")
    out = tmp_path / "report.json"
    code = cairn(
        ["eval", str(data), "--api-url", api_url, "--api-key", api_key, "--modes", "lexical",
         "--output", str(out), "--no-progress", "--limit-queries", "4"]
    )  # fmt: skip
    captured = capsys.readouterr()
    assert code == 0, captured.err
    assert "1 judged queries are not in queries.jsonl and are skipped: ghost" in captured.err
    assert "lexical" in captured.out and str(out) in captured.out
    report = json.loads(out.read_text())
    assert report["dataset"]["queries_missing_from_queries_file"] == ["ghost"]
    assert report["dataset"]["queries_evaluated"] == 4
    assert set(report["modes"]["lexical"]["per_query"]) == {"q1", "q2", "bees", "q4"}


def test_cli_with_a_wrong_api_key_fails_with_the_api_s_error(
    api_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = cairn(["eval", str(FIXTURE), "--api-url", api_url, "--api-key", "nope",
                  "--output", str(tmp_path / "r.json"), "--no-progress"])  # fmt: skip
    assert code == 1
    assert "401" in capsys.readouterr().err
    assert not (tmp_path / "r.json").exists()


def test_cli_with_an_unreachable_api_fails_with_exit_code_1(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from app.core.embedded import free_port

    url = f"http://127.0.0.1:{free_port()}"
    code = cairn(["eval", str(FIXTURE), "--api-url", url, "--no-progress",
                  "--output", str(tmp_path / "r.json")])  # fmt: skip
    assert code == 1
    assert f"{url} is not ready" in capsys.readouterr().err


def test_refused_and_failed_documents_are_reported_and_the_rest_evaluated(
    api_url: str, api_key: str, tmp_path: Path
) -> None:
    data = tmp_path / "tiny-bad"
    shutil.copytree(FIXTURE, data)
    with (data / "corpus.jsonl").open("a") as corpus:
        # Starts like a zip archive: the API refuses the file (415), and with it its batch.
        corpus.write(json.dumps({"_id": "fake-zip", "title": "", "text": "PK\u0003\u0004 x"}))
        # Looks like a PDF: accepted, then the worker fails to parse it.
        corpus.write("\n" + json.dumps({"_id": "fake-pdf", "title": "", "text": "%PDF-1.7 x"}))
        corpus.write("\n")
    report = evaluate(api_url, api_key, modes=["lexical"], dataset_dir=data)
    ingest = report["ingest"]
    assert ingest["refused"] == 1 and "415" in ingest["refused_examples"]["fake-zip"]
    assert ingest["failed"] == 1 and ingest["failures"][0]["filename"] == "fake-pdf.txt"
    assert ingest["ready"] == 10
    # The refused file did not keep its batch-mates out: the hand-computed metrics hold.
    assert report["modes"]["lexical"]["metrics"]["ndcg@10"] == pytest.approx(mean(NDCG), abs=1e-5)


@pytest.mark.slow
def test_without_api_url_it_starts_and_removes_its_own_platform(tmp_path: Path) -> None:
    """The default path: embedded Postgres and Redis, migrations, uvicorn and a Celery worker
    as subprocesses, all gone afterwards."""
    import subprocess
    import sys

    before = set(Path("/tmp").glob("cairn-ev-*"))
    out = tmp_path / "report.json"
    done = subprocess.run(
        [sys.executable, "-m", "app.cli", "eval", str(FIXTURE), "--modes", "lexical",
         "--no-progress", "--output", str(out)],
        capture_output=True, text=True, timeout=900, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    report = json.loads(out.read_text())
    assert report["run"]["api_url"] == "started by cairn eval"
    assert report["timings"]["platform_start_s"] > 0
    assert report["ingest"]["ready"] == 10
    assert report["modes"]["lexical"]["metrics"]["ndcg@10"] == pytest.approx(mean(NDCG), abs=1e-5)
    assert set(Path("/tmp").glob("cairn-ev-*")) <= before  # its temp dir is gone


@pytest.mark.slow
def test_sigterm_tears_down_the_platform_it_started(tmp_path: Path) -> None:
    import re
    import signal
    import subprocess
    import sys
    import time

    before = set(Path("/tmp").glob("cairn-ev-*"))
    proc = subprocess.Popen(
        [sys.executable, "-m", "app.cli", "eval", str(FIXTURE), "--no-progress",
         "--output", str(tmp_path / "r.json")],
        stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    assert proc.stderr is not None
    url = None
    deadline = time.monotonic() + 600
    while url is None and time.monotonic() < deadline:
        line = proc.stderr.readline()
        assert line or proc.poll() is None, "eval exited before the platform was up"
        if found := re.search(r"Cairn is up at (http://\S+)", line):
            url = found.group(1)
    assert url is not None
    started = set(Path("/tmp").glob("cairn-ev-*")) - before
    assert started  # the platform's temp dir exists while it runs
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=120) == 130
    assert "interrupted" in proc.stderr.read()
    assert not any(d.exists() for d in started)
    with pytest.raises(httpx.HTTPError):
        httpx.get(f"{url}/api/health", timeout=2)
