"""`cairn ingest` through the HTTP API: a folder of mixed files (one broken, one repeated)
gives the right summary, and a second run sends no bytes; `cairn status`; the known-digests
endpoint it relies on (issue 12)."""

from __future__ import annotations

import hashlib
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest
from rich.console import Console

from tests.conftest import make_pdf


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    tag = uuid.uuid4().hex
    (tmp_path / "notes.txt").write_text(f"Cairn notes {tag}. " * 30)
    (tmp_path / "guide.md").write_text(f"# Guide {tag}\n\nHow to stack stones. " * 20)
    (tmp_path / "copy-of-notes.txt").write_text(f"Cairn notes {tag}. " * 30)  # same bytes
    (tmp_path / "broken.pdf").write_bytes(make_pdf(["a page"])[:400] + b"\x00garbage" * 50
                                          + tag.encode())
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "deep.txt").write_text(f"Only with --recursive {tag}. " * 20)
    return tmp_path


def _quiet() -> Console:
    return Console(file=open("/dev/null", "w"), force_terminal=False)


def test_ingest_a_mixed_folder_then_a_second_run_uploads_nothing(
    api_url: str, api_key: str, folder: Path, collection_name: str
) -> None:
    from app.cli_client import ingest

    first = ingest([str(folder)], url=api_url, api_key=api_key, collection=collection_name,
                   console=_quiet(), poll_s=0.2, timeout_s=120)
    names = lambda paths: sorted(Path(p).name for p in paths)  # noqa: E731
    # sub/ only with --recursive; of the two identical notes one is sent, the other skipped
    assert names(first.ready) == ["copy-of-notes.txt", "guide.md"]
    assert names(first.failed) == ["broken.pdf"]
    assert list(first.failed.values()) == ["The PDF is corrupt or unreadable."]
    assert names(first.skipped) == ["notes.txt"]
    assert "same bytes as" in next(iter(first.skipped.values()))
    assert first.uploaded == 3

    second = ingest([str(folder)], url=api_url, api_key=api_key, collection=collection_name,
                    console=_quiet(), recursive=True)
    assert names(second.ready) == ["deep.txt"]  # the only file it had not seen
    deep = (folder / "sub" / "deep.txt").stat().st_size
    assert second.uploaded == 1 and second.uploaded_bytes == deep
    third = ingest([str(folder)], url=api_url, api_key=api_key, collection=collection_name,
                   console=_quiet(), recursive=True, include=["*.txt", "*.md", "*.pdf"])
    assert third.uploaded == 0 and third.uploaded_bytes == 0
    assert not third.ready and not third.failed
    assert len(third.skipped) == 5


def test_ingest_with_a_wrong_key_or_a_missing_path_exits_2(
    api_url: str, folder: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from app.cli import main

    assert main(["ingest", str(folder), "--url", api_url, "--api-key", "ck_wrong"]) == 2
    assert "401" in capsys.readouterr().err
    assert main(["ingest", str(folder / "nope"), "--url", api_url, "--api-key", "x"]) == 2
    assert "no such file" in capsys.readouterr().err


def test_ingest_against_an_unreachable_server_exits_2(
    folder: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from app.cli import main
    from app.core.embedded import free_port

    url = f"http://127.0.0.1:{free_port()}"
    assert main(["ingest", str(folder), "--url", url, "--api-key", "x"]) == 2
    assert url in capsys.readouterr().err


def test_known_digests_are_only_the_callers(client: Any, make_user: Any,
                                            collection_name: str) -> None:
    body = f"known {uuid.uuid4().hex}".encode() * 10
    digest = hashlib.sha256(body).hexdigest()
    resp = client.post("/api/v1/documents", files=[("files", ("k.txt", body))],
                       data={"collection": collection_name})
    assert resp.status_code == 202
    ask = {"collection": collection_name, "sha256": [digest, "0" * 64]}
    mine = client.post("/api/v1/documents/known", json=ask).json()["known"]
    assert [k["sha256"] for k in mine] == [digest]
    _, other = make_user()
    assert other.post("/api/v1/documents/known", json=ask).json() == {"known": []}


def test_known_refuses_a_malformed_digest_or_too_many(client: Any) -> None:
    assert client.post("/api/v1/documents/known",
                       json={"sha256": ["not-hex"]}).status_code == 422
    assert client.post("/api/v1/documents/known",
                       json={"sha256": ["a" * 64] * 1001}).status_code == 422


def test_status_shows_services_queues_and_documents(
    api_url: str, make_user: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    from app.cli import main
    from app.cli_client import status

    admin, _ = make_user("admin")
    found = status(url=api_url, api_key=admin.api_key)
    assert found["services"]["status"] in ("ready", "degraded")
    assert "ingest" in found["queues"] and "ready" in found["documents"]
    assert main(["status", "--url", api_url, "--api-key", admin.api_key]) == 0
    out = capsys.readouterr().out
    assert "queue ingest" in out and "documents ready" in out
    assert httpx.get(f"{api_url}/api/health").status_code == 200
