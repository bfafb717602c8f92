"""The console's Upload tab, synchronous: with a wait, the answer comes when every file is
ready or failed (with the reason), and a wait the API refuses is shown as its error."""

from __future__ import annotations

from pathlib import Path

from tests.conftest import make_pdf
from tests.test_console import h, write


def test_a_synchronous_upload_answers_with_final_statuses(
    api_url: str, api_key: str, collection_name: str, tmp_path: Path
) -> None:
    files = [write(tmp_path, "fjords.txt", b"Fjords are valleys the glaciers carved, drowned."),
             write(tmp_path, "empty.pdf", make_pdf([""]))]
    rows, msg = h.upload_files(api_url, api_key, files, collection_name, "", False, 90)
    statuses = {row[0]: row[2] for row in rows}
    assert statuses == {"fjords.txt": "ready", "empty.pdf": "failed"}, (rows, msg)
    assert msg.startswith("Ingested 2 file(s): 1 ready, 1 failed (empty.pdf: ")


def test_a_wait_longer_than_the_api_allows_is_its_error(
    api_url: str, api_key: str, collection_name: str, tmp_path: Path
) -> None:
    path = write(tmp_path, "late.txt", b"Too patient a client.")
    rows, msg = h.upload_files(api_url, api_key, [path], collection_name, "", False, 100_000)
    assert rows == [] and "422" in msg
    listed, _ = h.list_documents(api_url, api_key, h.ALL, collection_name)
    assert listed == []  # refused before anything was stored


def test_without_a_wait_the_upload_answers_at_once(
    api_url: str, api_key: str, collection_name: str, tmp_path: Path
) -> None:
    path = write(tmp_path, "quick.txt", b"Answered before the ingest.")
    rows, msg = h.upload_files(api_url, api_key, [path], collection_name, "", False, 0)
    assert rows and rows[0][2] == "queued" and msg.startswith("Accepted 1 file(s)")
