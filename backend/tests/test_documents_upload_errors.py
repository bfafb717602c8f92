"""Uploads the API refuses, and ids it does not know: always the one JSON error shape."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from app.core.config import get_settings
from tests.conftest import assert_error, count_documents, upload

PSD = b"8BPS\x00\x01" + b"\x00" * 64  # an image type that is not accepted
ELF = b"\x7fELF\x02\x01\x01\x00" + b"\x00" * 8 + b"\x02\x00\x3e\x00" + bytes(range(256)) * 4


def test_empty_file_is_422_empty_file(client: Any, collection_name: str, db: Any) -> None:
    resp = upload(client, [("empty.txt", b"")], collection=collection_name)
    err = assert_error(resp, 422, "empty_file")
    assert "empty.txt" in err["message"]
    assert count_documents(db, collection_name) == 0


def test_oversize_file_is_413_and_nothing_is_recorded(
    client: Any, collection_name: str, db: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(get_settings(), "max_upload_bytes", 100)
    resp = upload(client, [("big.txt", b"x" * 101)], collection=collection_name)
    err = assert_error(resp, 413, "payload_too_large")
    assert err["details"]["limit_bytes"] == 100
    assert count_documents(db, collection_name) == 0


def test_file_at_the_size_limit_is_accepted(
    client: Any, collection_name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(get_settings(), "max_upload_bytes", 100)
    resp = upload(client, [("fits.txt", b"y" * 100)], collection=collection_name)
    assert resp.status_code == 202, resp.text


def test_one_bad_file_refuses_the_whole_request(client: Any, collection_name: str, db: Any) -> None:
    resp = upload(
        client, [("good.txt", b"fine text here"), ("bad.txt", b"")], collection=collection_name
    )
    assert_error(resp, 422, "empty_file")
    assert count_documents(db, collection_name) == 0


@pytest.mark.parametrize(
    ("name", "data"),
    [("picture.psd", PSD), ("renamed.txt", PSD), ("program.txt", ELF)],
    ids=["psd", "psd-named-txt", "elf-named-txt"],
)
def test_unsupported_type_is_415(
    client: Any, collection_name: str, db: Any, name: str, data: bytes
) -> None:
    resp = upload(client, [(name, data)], collection=collection_name)
    assert_error(resp, 415, "unsupported_media_type")
    assert count_documents(db, collection_name) == 0


def test_too_many_files_is_422(
    client: Any, collection_name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(get_settings(), "max_files_per_upload", 2)
    resp = upload(
        client, [(f"{i}.txt", f"file {i}".encode()) for i in range(3)], collection=collection_name
    )
    assert_error(resp, 422, "validation_error")


def test_request_without_files_is_422(client: Any) -> None:
    resp = client.post("/api/v1/documents", data={"collection": "x"})
    assert_error(resp, 422, "validation_error")


@pytest.mark.parametrize("metadata", ["{not json", "[1, 2]", '"a string"'])
def test_malformed_metadata_is_422(
    client: Any, collection_name: str, db: Any, metadata: str
) -> None:
    resp = client.post(
        "/api/v1/documents",
        files=[("files", ("a.txt", b"some text"))],
        data={"collection": collection_name, "metadata": metadata},
    )
    assert_error(resp, 422, "validation_error")
    assert count_documents(db, collection_name) == 0


def test_metadata_object_is_stored(client: Any, collection_name: str) -> None:
    resp = upload(
        client,
        [("m.txt", b"metadata carrier")],
        collection=collection_name,
        metadata={"source": "unit", "n": 3},
    )
    assert resp.status_code == 202, resp.text
    doc_id = resp.json()["documents"][0]["id"]
    assert client.get(f"/api/v1/documents/{doc_id}").json()["metadata"] == {
        "source": "unit",
        "n": 3,
    }


# The routes of one document, for the unknown-id and bad-uuid checks.
DOCUMENT_ROUTES = [
    ("get", "/api/v1/documents/{id}"),
    ("get", "/api/v1/documents/{id}/chunks"),
    ("get", "/api/v1/documents/{id}/download"),
    ("delete", "/api/v1/documents/{id}"),
]


@pytest.mark.parametrize(("method", "path"), DOCUMENT_ROUTES)
def test_unknown_document_id_is_404(client: Any, method: str, path: str) -> None:
    resp = client.request(method, path.format(id=uuid.uuid4()))
    assert_error(resp, 404, "not_found")


@pytest.mark.parametrize(("method", "path"), DOCUMENT_ROUTES)
def test_invalid_document_uuid_is_422(client: Any, method: str, path: str) -> None:
    resp = client.request(method, path.format(id="not-a-uuid"))
    assert_error(resp, 422, "validation_error")


@pytest.mark.parametrize(
    "params", [{"limit": 0}, {"limit": 5000}, {"offset": -1}, {"status": "done"}]
)
def test_list_documents_rejects_bad_paging_and_status(client: Any, params: dict[str, Any]) -> None:
    assert_error(client.get("/api/v1/documents", params=params), 422, "validation_error")
