"""The bundled int8 MiniLM (`all-MiniLM-L6-v2-int8`): quantized locally from the fp32 ONNX
export (nothing downloaded), close to fp32's vectors but a model of its own, refused where it
cannot run, and usable as a collection's second embedding space through the API."""

from __future__ import annotations

import math
import shutil
import time
import uuid
from pathlib import Path
from typing import Any

import pytest

from tests.test_embedding_spaces import DOCS, QUERY, _collection, _search, _spaces

INT8 = "all-MiniLM-L6-v2-int8"


def _dot(a: list[float], b: list[float]) -> float:
    return sum(x * y for x, y in zip(a, b, strict=True))


def _embedders() -> tuple[Any, Any]:
    from app.providers.embeddings import EmbedderSpec, get_embedder, get_embedder_for

    return get_embedder(), get_embedder_for(EmbedderSpec("local", INT8, 384))


def test_int8_vectors_are_close_to_fp32_and_rank_the_same() -> None:
    from app.core.config import get_settings
    from app.providers.embeddings.local_model import onnx_path

    fp32, int8 = _embedders()
    assert (int8.dim, int8.model_name, int8.window_tokens) == (384, INT8, fp32.window_tokens)
    models = get_settings().models_dir
    size = onnx_path(INT8, models).stat().st_size
    assert size < 0.4 * onnx_path(fp32.model_name, models).stat().st_size
    texts = [text.decode() for _, text in DOCS]
    a, b = fp32.embed_documents(texts), int8.embed_documents(texts)
    for x, y in zip(a, b, strict=True):
        assert math.isclose(_dot(y, y), 1.0, abs_tol=1e-4)
        assert 0.97 < _dot(x, y) < 0.99999  # close, yet not fp32's vectors
    qa, qb = fp32.embed_query(QUERY), int8.embed_query(QUERY)
    rank = lambda q, docs: sorted(range(len(docs)), key=lambda i: -_dot(q, docs[i]))  # noqa: E731
    assert rank(qa, a)[0] == rank(qb, b)[0] == 0  # the glacier passage, for both


def test_a_half_written_quantization_left_by_a_killed_process_is_redone(tmp_path: Path) -> None:
    from app.core.config import get_settings
    from app.providers.embeddings.local_model import export_onnx, onnx_path

    fp32 = onnx_path("all-MiniLM-L6-v2", get_settings().models_dir)
    shutil.copy(export_onnx("all-MiniLM-L6-v2", get_settings().models_dir), tmp_path / fp32.name)
    onnx_path(INT8, tmp_path).with_suffix(".onnx.tmp").write_bytes(b"half a graph")
    out = export_onnx(INT8, tmp_path)
    assert out == onnx_path(INT8, tmp_path) and out.stat().st_size > 1_000_000
    assert export_onnx(INT8, tmp_path).stat().st_mtime == out.stat().st_mtime  # made once

    import onnxruntime as ort

    assert ort.InferenceSession(str(out), providers=["CPUExecutionProvider"]).get_inputs()


def test_the_int8_model_is_refused_on_the_torch_runtime() -> None:
    from app.providers.embeddings import EmbeddingError
    from app.providers.embeddings.torch_st import SentenceTransformerEmbedder

    with pytest.raises(EmbeddingError, match="EMBEDDING_RUNTIME=onnx"):
        SentenceTransformerEmbedder(INT8, batch_size=8, max_tokens=256)


def test_an_unknown_bundled_model_is_refused_before_any_export(tmp_path: Path) -> None:
    from app.providers.embeddings import resolve_spec
    from app.providers.embeddings.local_model import export_onnx

    with pytest.raises(ValueError, match="No bundled embedding model"):
        resolve_spec("local", "all-MiniLM-L6-v2-int4")
    with pytest.raises(ValueError, match="no bundled weights"):
        export_onnx("all-MiniLM-L6-v2-int4", tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_a_collection_moves_to_the_int8_space_through_the_api(client: Any) -> None:
    name = f"int8-{uuid.uuid4().hex[:8]}"
    cid, _ = _collection(client, name, DOCS)
    base = f"/api/v1/collections/{cid}/embedding-spaces"
    resp = client.post(base, json={"provider": "local", "model": INT8})
    assert resp.status_code == 202, resp.text
    sid = resp.json()["id"]
    again = client.post(base, json={"provider": "local", "model": INT8})
    assert again.status_code == 409 and again.json()["error"]["code"] == "space_exists"
    deadline = time.monotonic() + 120
    while (status := _spaces(client, cid)[sid]["status"]) != "ready":
        # one read per round: a second read could already see `ready`
        assert status == "building", _spaces(client, cid)
        assert time.monotonic() < deadline
        time.sleep(0.5)
    assert client.post(f"{base}/{sid}/activate").status_code == 200
    after = _search(client, QUERY, name)
    assert after[0]["filename"] == "glacier.txt"
    _, int8 = _embedders()
    assert math.isclose(
        after[0]["retrievers"]["vector"]["score"],
        _dot(int8.embed_query(QUERY), int8.embed_documents([DOCS[0][1].decode()])[0]),
        abs_tol=0.02,  # the hit may be a chunk or the whole-document row of the same text
    )
