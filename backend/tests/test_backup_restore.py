"""`cairn backup` / `cairn restore`: a round trip into a fresh installation answers the same
searches, a backup taken while uploads run is consistent, and a damaged backup or a non-empty
installation is refused (issue 12)."""

from __future__ import annotations

import io
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PIL import Image, ImageDraw
from sqlalchemy import create_engine, make_url, text

from tests.conftest import search, upload, wait_for_documents

TOPICS = {
    "volcano.txt": "Volcanoes erupt molten basalt lava from magma chambers under the crust. ",
    "orchard.txt": "The apple orchard blossoms in spring and the harvest fills cider barrels. ",
}


@pytest.fixture
def fresh_installation(tmp_path: Path) -> Iterator[Any]:
    """Points the app at an empty, migrated database and an empty local object store;
    yields a function that does it (so the test can back up the current one first)."""
    from alembic.config import Config

    from alembic import command
    from app.core.config import get_settings
    from app.core.db import reset_engine
    from app.storage import get_store

    settings = get_settings()
    before = (settings.database_url, settings.storage_backend, settings.storage_local_root)
    name = f"restore_{uuid.uuid4().hex[:10]}"
    admin = create_engine(before[0], isolation_level="AUTOCOMMIT")

    def switch() -> None:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        url = make_url(before[0]).set(database=name).render_as_string(hide_password=False)
        with create_engine(url).begin() as conn:
            conn.execute(text("CREATE EXTENSION IF NOT EXISTS vector"))
        settings.database_url = url
        settings.storage_backend = "local"
        settings.storage_local_root = tmp_path / "restored-objects"
        reset_engine()
        get_store.cache_clear()
        command.upgrade(Config(str(Path(__file__).resolve().parents[1] / "alembic.ini")),
                        "head")

    try:
        yield switch
    finally:
        settings.database_url, settings.storage_backend, settings.storage_local_root = before
        reset_engine()
        get_store.cache_clear()
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def _engine_and_store() -> tuple[Any, Any]:
    from app.core.db import get_engine
    from app.storage import get_store

    return get_engine(), get_store()


def _answers(client: Any, collection: str) -> list[list[tuple[str, int, int, float]]]:
    return [[(h["document_id"], h["chunk_id"], h["ordinal"], round(h["score"], 5))
             for h in search(client, query, collection)]
            for query in ("lava from magma", "cider harvest", "spring blossoms")]


def test_backup_wipe_restore_answers_the_same_searches_even_when_taken_during_uploads(
    client: Any, collection_name: str, fresh_installation: Any, tmp_path: Path
) -> None:
    from app.backup import service

    tag = uuid.uuid4().hex
    picture = Image.new("RGB", (96, 64), (200, 120, 40))
    ImageDraw.Draw(picture).ellipse((20, 10, 70, 55), fill=(20, 60, 200))
    png = io.BytesIO()
    picture.save(png, "PNG")
    files = [(n, (t * 12 + tag).encode()) for n, t in TOPICS.items()]
    resp = upload(client, [*files, ("dot.png", png.getvalue())], collection=collection_name)
    ids = [d["id"] for d in resp.json()["documents"]]
    wait_for_documents(client, ids)
    before = _answers(client, collection_name)
    assert before[0] and before[1]

    busy = f"{collection_name}-busy"
    sent: list[str] = []

    def keep_uploading() -> None:  # uploads (and their ingest) while the backup runs
        for i in range(4):
            r = upload(client, [(f"busy-{i}.txt", f"busy {i} {tag} ".encode() * 50)],
                       collection=busy)
            sent.extend(d["id"] for d in r.json()["documents"])

    uploader = threading.Thread(target=keep_uploading)
    uploader.start()
    manifest = service.backup(*_engine_and_store(), tmp_path / "bk")
    uploader.join()
    wait_for_documents(client, sent)  # the worker is idle before the app moves
    assert manifest["tables"]["documents"]["rows"] >= 2
    assert manifest["objects"]

    fresh_installation()
    engine, store = _engine_and_store()
    counts = service.restore(engine, store, tmp_path / "bk")
    assert counts["chunks"] == manifest["tables"]["chunks"]["rows"]
    with engine.connect() as conn:  # consistent: every ready document has all its chunks
        assert conn.execute(text(
            "SELECT count(*) FROM documents d WHERE d.status = 'ready' AND d.chunk_count <> "
            "(SELECT count(*) FROM chunks c WHERE c.document_id = d.id "
            "AND c.granularity = 'chunk')")).scalar() == 0
        keys = [k for (k,) in conn.execute(text(
            "SELECT storage_key FROM documents UNION "
            "SELECT thumbnail_key FROM documents WHERE thumbnail_key IS NOT NULL"))]
    assert keys and all(store.exists(k) for k in keys)
    thumb = client.get(f"/api/v1/documents/{ids[-1]}/thumbnail")  # thumbnails come back too
    assert thumb.status_code == 200 and thumb.headers["content-type"] == "image/webp"
    # The same user (restored with its API key), the same answers, at once.
    assert _answers(client, collection_name) == before
    listed = client.get("/api/v1/documents", params={"collection": collection_name}).json()
    assert sorted(d["id"] for d in listed["items"]) == sorted(ids)

    with pytest.raises(service.BackupError) as refused:
        service.restore(engine, store, tmp_path / "bk")
    assert refused.value.code == "not_empty"


def test_a_damaged_backup_is_refused_before_anything_is_written(tmp_path: Path,
                                                                client: Any) -> None:
    from app.backup import service

    service.backup(*_engine_and_store(), tmp_path / "bk")
    table = tmp_path / "bk" / "db" / "documents.copy"
    data = bytearray(table.read_bytes())
    data[len(data) // 2] ^= 0x01
    table.write_bytes(bytes(data))
    with pytest.raises(service.BackupError) as refused:
        service.restore(*_engine_and_store(), tmp_path / "bk")
    assert refused.value.code == "backup_corrupt"
    (tmp_path / "bk" / "manifest.json").unlink()
    with pytest.raises(service.BackupError):
        service.verify(tmp_path / "bk")


def test_cli_refuses_a_non_empty_destination_and_a_non_empty_installation(
    tmp_path: Path, client: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    from app.cli import main

    assert main(["backup", str(tmp_path / "bk")]) == 0
    assert "backed up" in capsys.readouterr().out
    assert main(["backup", str(tmp_path / "bk")]) == 1
    assert "not empty" in capsys.readouterr().err
    assert main(["restore", str(tmp_path / "bk")]) == 1  # this installation has rows
    assert "not empty" in capsys.readouterr().err
