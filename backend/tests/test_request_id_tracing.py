"""One upload can be traced end to end: the request id of the upload (X-Request-ID, or one
the API made) travels in the Celery task's headers into the worker's log lines for that
document (issue 12)."""

from __future__ import annotations

import uuid
from typing import Any

import structlog
from structlog.testing import capture_logs

from tests.conftest import make_pdf, wait_for_documents

BROKEN_PDF = make_pdf(["a page"])[:400] + b"\x00garbage" * 50  # the worker logs its failure


def _upload_broken(client: Any, collection: str, headers: dict[str, str]) -> tuple[str, str]:
    resp = client.post(
        "/api/v1/documents",
        files=[("files", (f"trace-{uuid.uuid4().hex}.pdf", BROKEN_PDF + uuid.uuid4().bytes))],
        data={"collection": collection},
        headers=headers,
    )
    assert resp.status_code == 202, resp.text
    doc_id = resp.json()["documents"][0]["id"]
    with capture_logs(processors=[structlog.contextvars.merge_contextvars]) as logs:
        wait_for_documents(client, [doc_id])
    lines = [e for e in logs if e.get("document_id") == doc_id]
    assert lines, logs
    assert {e["event"] for e in lines} >= {"document_failed"}
    ids = {e.get("request_id") for e in lines}
    assert len(ids) == 1, lines
    assert all(e.get("task") == "documents.ingest" and e.get("task_id") for e in lines)
    return resp.headers["X-Request-ID"], ids.pop()


def test_the_callers_request_id_reaches_the_workers_log_lines(
    client: Any, collection_name: str
) -> None:
    given = f"trace-{uuid.uuid4().hex[:16]}"
    answered, in_worker = _upload_broken(client, collection_name, {"X-Request-ID": given})
    assert answered == given
    assert in_worker == given


def test_without_a_request_id_the_one_the_api_made_reaches_the_worker(
    client: Any, collection_name: str
) -> None:
    answered, in_worker = _upload_broken(client, collection_name, {})
    assert len(answered) == 32 and in_worker == answered


def test_an_unsafe_request_id_is_replaced_and_the_replacement_is_traced(
    client: Any, collection_name: str
) -> None:
    answered, in_worker = _upload_broken(client, collection_name,
                                         {"X-Request-ID": "bad id\twith spaces"})
    assert answered != "bad id\twith spaces"
    assert in_worker == answered


def test_a_task_sent_outside_a_request_carries_no_request_id() -> None:
    from app.workers.context import _add_request_id

    structlog.contextvars.clear_contextvars()
    headers: dict[str, Any] = {}
    _add_request_id(headers=headers)
    assert headers == {}
