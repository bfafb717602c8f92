"""The console's Tasks, Labels and Evaluate tabs: handlers (HTTP calls to the API only) and
their components; app.py wires them.

- Tasks: GET /api/v1/tasks/{id}, once or every 2 s until the task ends.
- Labels: the label review queue (GET /api/v1/labels/review, POST /api/v1/labels/{id}/accept
  or /reject). Until the labels API is on this server it says so (those paths answer 404).
- Evaluate: the eval harness (`cairn eval`, backend/app/eval) on a BEIR folder, run as a child
  process against this console's API (--api-url; it speaks only HTTP, app/eval/client.py) with
  the visitor's credentials in its environment; the table is read from its JSON report.
  Where the backend package is not installed (the console's Docker image) it says so.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import gradio as gr
from api_client import SIGN_IN_FIRST, ApiClient, Auth, ConsoleError
from console_handlers import Rows, error_message

FINAL_TASK_STATES = ("SUCCESS", "FAILURE", "REVOKED")
REVIEW_HEADERS = ["label id", "document", "collection", "kind", "value", "confidence", "model"]
EVAL_HEADERS = ["mode", "nDCG@10", "Recall@100", "MRR@10", "p50 ms", "p95 ms", "queries",
                "errors"]  # fmt: skip
EVAL_METRICS = ("ndcg@10", "recall@100", "mrr@10")
EVAL_MODES = ("vector", "lexical", "hybrid")
EVAL_TIMEOUT_S = 3600
NO_LABELS_API = ("The labels API is not on this server yet (GET /api/v1/labels/review "
                 "answered 404): label review arrives with labeling.")  # fmt: skip


class ToolsClient(ApiClient):
    def bearer(self) -> str:
        if not self.has_credentials():
            raise ConsoleError(SIGN_IN_FIRST, status=401, code="not_signed_in")
        return self._bearer()

    def review_queue(self, collection: str | None, limit: int = 100) -> dict[str, Any]:
        params: dict[str, Any] = {"limit": limit, "offset": 0}
        if collection:
            params["collection"] = collection
        page: dict[str, Any] = self._json("GET", "/api/v1/labels/review", params=params)
        return page

    def decide(self, label_id: int, accept: bool) -> dict[str, Any]:
        verb = "accept" if accept else "reject"
        label: dict[str, Any] = self._json("POST", f"/api/v1/labels/{label_id}/{verb}")
        return label


def _client(base_url: str, auth: Auth) -> ToolsClient:
    client = ToolsClient(base_url, auth)
    if not client.has_credentials():
        raise ConsoleError(SIGN_IN_FIRST, status=401, code="not_signed_in")
    return client


# --- Tasks -----------------------------------------------------------------------------------


def poll_task(base_url: str, auth: Auth, task_id: str | None) -> tuple[Any, str, Any]:
    """(the task's JSON, a message, the poll timer: stopped once the task has ended)."""
    tid = (task_id or "").strip()
    if not tid:
        return None, "**Error:** paste a task id (the Upload tab shows each file's).", gr.Timer(
            active=False)  # fmt: skip
    try:
        task = _client(base_url, auth).get_task(tid)
    except ConsoleError as exc:
        return None, error_message(exc), gr.Timer(active=False)
    state = str(task.get("state"))
    done = state in FINAL_TASK_STATES
    parts = [f"Task `{tid}`: **{state}**"]
    if task.get("document_status"):
        parts.append(f"document {task['document_status']} (stage {task.get('stage')})")
    if task.get("progress") is not None:
        parts.append(f"{float(task['progress']):.0%}")
    if task.get("error"):
        parts.append(f"{task.get('error_code')}: {task['error']}")
    return task, " · ".join(parts) + ("" if done else " (polling…)"), gr.Timer(active=not done)


# --- Labels ----------------------------------------------------------------------------------


def review_rows(page: dict[str, Any]) -> Rows:
    return [[item.get("id"), item.get("filename"), item.get("collection"), item.get("kind"),
             item.get("value"), round(float(item.get("confidence") or 0), 3),
             item.get("model_name") or ""] for item in page.get("items", [])]  # fmt: skip


def review_queue(base_url: str, auth: Auth, collection: str | None) -> tuple[Rows, str]:
    try:
        page = _client(base_url, auth).review_queue((collection or "").strip() or None)
    except ConsoleError as exc:
        return [], NO_LABELS_API if exc.status == 404 else error_message(exc)
    rows = review_rows(page)
    if not rows:
        return [], "Nothing to review: no model label is in the uncertain range."
    total = page.get("total", len(rows))
    return rows, f"{total} label(s) to review. Pick a row, then Accept or Reject."


def pick_label(evt: gr.SelectData) -> str:
    row = evt.row_value if isinstance(evt.row_value, list) else []
    return str(row[0]) if row else ""


def decide_label(base_url: str, auth: Auth, label_id: str | None, accept: bool,
                 collection: str | None) -> tuple[Rows, str]:  # fmt: skip
    raw = (label_id or "").strip()
    if not raw.isdigit():
        return review_queue(base_url, auth, collection)[0], "**Error:** pick a label (click a row)."
    try:
        label = _client(base_url, auth).decide(int(raw), accept)
    except ConsoleError as exc:
        rows, queue_msg = review_queue(base_url, auth, collection)
        return rows, NO_LABELS_API if queue_msg == NO_LABELS_API else error_message(exc)
    rows, _ = review_queue(base_url, auth, collection)
    verb = "Accepted" if accept else "Rejected"
    return rows, f"{verb} {label.get('kind')}: {label.get('value')} (label {raw})."


# --- Evaluate --------------------------------------------------------------------------------


def eval_rows(report: dict[str, Any]) -> Rows:
    rows = []
    for mode, result in report.get("modes", {}).items():
        metrics, latency = result["metrics"], result["latency"]
        rows.append([mode, *(round(float(metrics[m]), 4) for m in EVAL_METRICS),
                     latency.get("p50_ms"), latency.get("p95_ms"), result["queries"],
                     result["errors"]])  # fmt: skip
    return rows


def run_eval(base_url: str, auth: Auth, folder: str | None, modes: list[str] | None,
             limit_queries: float | None, k: float) -> tuple[Rows, str, Any]:  # fmt: skip
    """Run `cairn eval FOLDER --api-url <this API>`; (table, message, the JSON report)."""
    path = Path((folder or "").strip()).expanduser()
    if not str(folder or "").strip() or not path.is_dir():
        return [], f"**Error:** no folder at `{folder or ''}` (a BEIR folder: corpus.jsonl, " \
            "queries.jsonl, qrels/).", None
    chosen = [m for m in (modes or []) if m in EVAL_MODES]
    if not chosen:
        return [], "**Error:** pick at least one mode.", None
    try:
        bearer = _client(base_url, auth).bearer()
    except ConsoleError as exc:
        return [], error_message(exc), None
    with tempfile.TemporaryDirectory(prefix="cairn-eval-") as tmp:
        out = Path(tmp) / "report.json"
        argv = [sys.executable, "-m", "app.cli", "eval", str(path.resolve()), "--api-url",
                base_url, "--modes", ",".join(chosen), "--k", str(int(k)), "--no-progress",
                "--output", str(out)]  # fmt: skip
        if limit_queries:
            argv += ["--limit-queries", str(int(limit_queries))]
        env = os.environ | {"CAIRN_API_KEY": bearer}
        try:  # cwd: a neutral folder (this one's app.py would shadow the backend's `app`)
            done = subprocess.run(argv, cwd=tmp, env=env, capture_output=True, text=True,
                                  timeout=EVAL_TIMEOUT_S, check=False)  # fmt: skip
        except subprocess.TimeoutExpired:
            return [], f"**Error:** the evaluation did not finish in {EVAL_TIMEOUT_S} s.", None
        if "No module named 'app" in done.stderr:
            return [], ("**Error:** the eval harness (`cairn eval`, the backend package) is not "
                        "installed where the console runs; run `cairn eval` next to the API."), None
        if done.returncode != 0 or not out.is_file():
            tail = "\n".join(done.stderr.strip().splitlines()[-3:]) or f"exit {done.returncode}"
            return [], f"**Error:** the evaluation failed: {tail}", None
        report = json.loads(out.read_text())
    ds = report.get("dataset", {})
    msg = (f"Evaluated **{ds.get('name', path.name)}** ({ds.get('documents', '?')} documents, "
           f"{ds.get('queries', '?')} queries) against {base_url}.")  # fmt: skip
    return eval_rows(report), msg, report


# --- components ------------------------------------------------------------------------------


def build_tabs(base: gr.State, creds: gr.State) -> None:
    """The three tabs, wired (call inside gr.Tabs())."""
    with gr.Tab("Tasks"):
        with gr.Row():
            t_id = gr.Textbox(label="Task id", scale=4, placeholder="from the Upload tab")
            t_button = gr.Button("Poll", variant="primary", scale=1)
        t_msg = gr.Markdown()
        t_json = gr.JSON(label="GET /api/v1/tasks/{id}")
        t_timer = gr.Timer(2, active=False)
    with gr.Tab("Labels"):
        with gr.Row():
            l_collection = gr.Textbox(label="Collection (empty: all)", scale=3)
            l_refresh = gr.Button("Load review queue", variant="primary", scale=1)
        l_msg = gr.Markdown()
        l_table = gr.Dataframe(headers=REVIEW_HEADERS, value=[], interactive=False, wrap=True,
                               label="Model labels to review", column_count=len(REVIEW_HEADERS))
        with gr.Row():
            l_id = gr.Textbox(label="Label id", placeholder="click a row", scale=2)
            l_accept = gr.Button("Accept", variant="primary", scale=1)
            l_reject = gr.Button("Reject", variant="stop", scale=1)
    with gr.Tab("Evaluate"):
        with gr.Row():
            e_folder = gr.Textbox(label="BEIR folder (on the console's machine)", scale=4,
                                  placeholder="/data/beir/scifact")
            e_modes = gr.CheckboxGroup(list(EVAL_MODES), value=list(EVAL_MODES), label="Modes")
        with gr.Row():
            e_limit = gr.Number(label="Only the first N queries (0: all)", value=0, precision=0)
            e_k = gr.Slider(10, 100, value=100, step=1, label="k")
        e_button = gr.Button("Run evaluation", variant="primary")
        e_msg = gr.Markdown()
        e_table = gr.Dataframe(headers=EVAL_HEADERS, value=[], interactive=False,
                               label="Retrieval quality", column_count=len(EVAL_HEADERS))
        e_json = gr.JSON(label="Report", open=False)

    for event in (t_button.click, t_id.submit, t_timer.tick):
        event(poll_task, [base, creds, t_id], [t_json, t_msg, t_timer])
    l_refresh.click(review_queue, [base, creds, l_collection], [l_table, l_msg])
    l_table.select(pick_label, None, l_id)
    for button, accept in ((l_accept, True), (l_reject, False)):
        button.click(lambda b, c, i, col, a=accept: decide_label(b, c, i, a, col),
                     [base, creds, l_id, l_collection], [l_table, l_msg])  # fmt: skip
    e_button.click(run_eval, [base, creds, e_folder, e_modes, e_limit, e_k],
                   [e_table, e_msg, e_json])  # fmt: skip
