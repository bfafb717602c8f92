"""The periodic sweep deletes stored originals that no document references, once they are
older than the grace period; referenced and recent objects stay."""

from __future__ import annotations

import hashlib
import io
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from app.core.config import get_settings
from app.documents.tasks import sweep_orphan_objects
from app.storage import content_key, get_store
from tests.conftest import s3_keys, upload, wait_for_documents

LATER = timedelta(seconds=get_settings().orphan_grace_s + 60)


def _orphan() -> str:
    data = f"an orphan {uuid.uuid4()}".encode()
    key = content_key(hashlib.sha256(data).hexdigest())
    get_store().put(key, io.BytesIO(data), size=len(data), content_type="text/plain")
    return key


def test_an_unreferenced_object_past_the_grace_period_is_deleted(s3: Any) -> None:
    key = _orphan()
    assert sweep_orphan_objects(now=datetime.now(UTC) + LATER) >= 1
    assert key not in s3_keys(s3)


def test_a_recent_unreferenced_object_is_kept_for_an_upload_in_flight(s3: Any) -> None:
    key = _orphan()
    sweep_orphan_objects()
    assert key in s3_keys(s3)
    get_store().delete(key)


def test_an_object_a_document_references_is_never_swept(
    client: Any, collection_name: str, s3: Any
) -> None:
    content = f"kept {uuid.uuid4()}: a referenced original".encode()
    doc = upload(client, [("kept.txt", content)], collection=collection_name).json()
    doc_id = doc["documents"][0]["id"]
    wait_for_documents(client, [doc_id])
    sweep_orphan_objects(now=datetime.now(UTC) + LATER)
    assert content_key(hashlib.sha256(content).hexdigest()) in s3_keys(s3)
    assert client.get(f"/api/v1/documents/{doc_id}/download").content == content
