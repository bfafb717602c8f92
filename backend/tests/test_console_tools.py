"""The console's Tasks, Labels and Evaluate tabs (frontend/gradio-interface/console_tools.py)
against the live API: a task polled to its end, the label review queue (which says the labels
API is not here while it answers 404), and the eval harness run on a BEIR folder over HTTP."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest

from tests.test_console import CONSOLE_DIR, TEXT, closed_port_url, write

assert CONSOLE_DIR.is_dir()
import console_handlers as h  # noqa: E402
import console_tools as tools  # noqa: E402

BEIR = Path(__file__).parent / "fixtures" / "beir_tiny"


@pytest.fixture
def key(api_key: str) -> str:
    return api_key


def test_a_task_is_polled_until_it_ends(api_url: str, key: str, collection_name: str,
                                        tmp_path: Path) -> None:  # fmt: skip
    rows, msg = h.upload_files(api_url, key, [write(tmp_path, "t.txt", TEXT)], collection_name,
                               "", False)  # fmt: skip
    task_id = str(rows[0][4])
    deadline = time.monotonic() + 120
    while True:
        task, msg, timer = tools.poll_task(api_url, key, task_id)
        assert task is not None and task["task_id"] == task_id, msg
        if task["state"] in tools.FINAL_TASK_STATES or time.monotonic() > deadline:
            break
        assert timer.active and "(polling…)" in msg
        time.sleep(0.5)
    assert task["state"] == "SUCCESS" and task["document_status"] == "ready", task
    assert f"Task `{task_id}`: **SUCCESS**" in msg and not timer.active


def test_a_task_without_an_id_or_unknown_or_unreachable_says_why(api_url: str, key: str) -> None:
    task, msg, timer = tools.poll_task(api_url, key, "  ")
    assert task is None and "paste a task id" in msg and not timer.active
    task, msg, _ = tools.poll_task(api_url, key, "no-such-task")
    assert task is None and msg.startswith("**Error:**")
    task, msg, _ = tools.poll_task(closed_port_url(), key, "x")
    assert task is None and "Cannot reach the API" in msg


def test_the_review_queue_says_the_labels_api_is_not_here_yet(api_url: str, key: str) -> None:
    """On a server without the labels API (404) the tab says so instead of failing."""
    rows, msg = tools.review_queue(api_url, key, None)
    if msg != tools.NO_LABELS_API:  # the labels API has landed: an empty or filled queue
        assert msg.startswith(("Nothing to review", f"{len(rows)} label")), msg
        return
    assert rows == []
    rows, msg = tools.decide_label(api_url, key, "12", True, None)
    assert rows == [] and msg == tools.NO_LABELS_API


def test_deciding_without_a_label_or_signed_out_says_why(api_url: str) -> None:
    _, msg = tools.decide_label(api_url, "", "", True, None)
    assert "pick a label" in msg
    rows, msg = tools.review_queue(api_url, "", None)
    assert rows == [] and "Sign in" in msg


def test_review_rows_follow_the_contract_shape() -> None:
    page = {"items": [{"id": 7, "kind": "topic", "value": "finance", "confidence": 0.55123,
                       "source": "model", "status": "active", "model_name": "zs",
                       "document_id": "d", "filename": "a.pdf", "collection": "c"}], "total": 1}
    assert tools.review_rows(page) == [[7, "a.pdf", "c", "topic", "finance", 0.551, "zs"]]


def test_evaluate_runs_the_harness_over_http_and_shows_the_table(api_url: str, key: str) -> None:
    rows, msg, report = tools.run_eval(api_url, key, str(BEIR), ["lexical"], 0, 10)
    assert report is not None, msg
    assert "Evaluated **beir_tiny**" in msg
    assert [r[0] for r in rows] == ["lexical"]
    _mode, ndcg, recall, mrr, *_rest, queries, errors = rows[0]
    assert 0 < ndcg <= 1 and 0 < recall <= 1 and 0 < mrr <= 1
    assert queries == report["modes"]["lexical"]["queries"] == 5 and errors == 0


def test_evaluate_a_missing_or_non_beir_folder_says_why(api_url: str, key: str,
                                                        tmp_path: Path) -> None:  # fmt: skip
    rows, msg, report = tools.run_eval(api_url, key, str(tmp_path / "nope"), ["lexical"], 0, 10)
    assert rows == [] and report is None and "no folder at" in msg
    rows, msg, report = tools.run_eval(api_url, key, str(tmp_path), ["lexical"], 0, 10)
    assert rows == [] and report is None and msg.startswith("**Error:** the evaluation failed")
    assert "corpus" in msg, msg
    _, msg, _ = tools.run_eval(api_url, key, str(BEIR), [], 0, 10)
    assert "pick at least one mode" in msg


def test_eval_rows_keep_the_report_order(tmp_path: Path) -> None:
    report: dict[str, Any] = {"modes": {m: {
        "metrics": {"ndcg@10": 0.5, "recall@100": 1.0, "mrr@10": 0.25},
        "latency": {"p50_ms": 3.0, "p95_ms": 9.0}, "queries": 5, "errors": 0}
        for m in ("vector", "hybrid")}}  # fmt: skip
    assert [r[0] for r in tools.eval_rows(report)] == ["vector", "hybrid"]
