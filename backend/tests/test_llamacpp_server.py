"""One cache of in-process llama.cpp servers (app/providers/llamacpp_server.py) serves the
chat LLM and the embedder: the same options give the same running server, an embedding
server is another one, and a file that is not a model fails as each provider's own error."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.providers.llamacpp_server import ServerOptions, bundled_model_path, server


def test_the_llm_and_the_embedder_get_their_servers_from_one_cache() -> None:
    from app.providers.embeddings import EmbedderSpec, get_embedder_for
    from app.providers.llm.llamacpp import _server as llm_server

    path = bundled_model_path()
    assert path is not None
    chat = llm_server(path, 2048, 1)
    assert server(ServerOptions(path, 2048, 1)) is chat  # loaded once per options
    embedder = get_embedder_for(EmbedderSpec("llamacpp", "SmolLM2-135M-Instruct", 576))
    embedding = server(ServerOptions(path, 2048, 2, embedding_batch_tokens=1024))
    assert embedding is not chat
    assert str(embedder.client.base_url).startswith(embedding.listening_address)


def test_a_file_that_is_not_a_model_is_the_llms_own_error(tmp_path: Path) -> None:
    from app.providers.llm import LLMError
    from app.providers.llm.llamacpp import LlamaCppLLM

    bad = tmp_path / "not-a-model.gguf"
    bad.write_bytes(b"GGUF but not really")
    with pytest.raises(LLMError, match=r"not-a-model\.gguf"):
        LlamaCppLLM(model_path=bad, context_tokens=512, threads=1, temperature=0,
                    max_tokens=8, timeout_s=5)


def test_a_file_that_is_not_a_model_is_the_embedders_own_error(tmp_path: Path) -> None:
    from app.providers.embeddings import EmbeddingError
    from app.providers.embeddings.llamacpp import LlamaCppEmbedder

    bad = tmp_path / "broken.gguf"
    bad.write_bytes(b"\x00" * 64)
    with pytest.raises(EmbeddingError, match=r"broken\.gguf"):
        LlamaCppEmbedder(path=bad, model="broken", threads=1, batch_size=4, timeout_s=5)
