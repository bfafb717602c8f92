"""Embeddings from any OpenAI-compatible HTTP API (OpenAI, Ollama /v1, vLLM, LM Studio)."""

from __future__ import annotations

import math
from collections.abc import Sequence

import httpx
from tenacity import (
    retry,
    retry_if_exception,
    stop_after_attempt,
    wait_exponential_jitter,
)

from app.providers.embeddings.base import Embedder, EmbeddingError


def _is_transient(exc: BaseException) -> bool:
    return isinstance(exc, EmbeddingError) and exc.transient


class OpenAICompatibleEmbedder(Embedder):
    def __init__(
        self,
        *,
        base_url: str,
        api_key: str | None,
        model: str,
        dim: int,
        batch_size: int,
        timeout_s: float,
    ) -> None:
        self.model_name = model
        self.dim = dim
        self.batch_size = batch_size
        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self.client = httpx.Client(
            base_url=base_url.rstrip("/"), headers=headers, timeout=timeout_s
        )

    @retry(
        retry=retry_if_exception(_is_transient),
        stop=stop_after_attempt(4),
        wait=wait_exponential_jitter(multiplier=0.5, max=8),
        reraise=True,
    )
    def _request(self, texts: list[str]) -> list[list[float]]:
        try:
            resp = self.client.post("/embeddings", json={"model": self.model_name, "input": texts})
        except httpx.HTTPError as exc:
            raise EmbeddingError(f"embedding API unreachable: {exc}", transient=True) from exc
        if resp.status_code == 429 or resp.status_code >= 500:
            raise EmbeddingError(
                f"embedding API answered {resp.status_code}", transient=True
            )
        if resp.status_code >= 400:
            raise EmbeddingError(f"embedding API answered {resp.status_code}: {resp.text[:300]}")
        try:
            data = sorted(resp.json()["data"], key=lambda d: d["index"])
            vectors = [list(map(float, d["embedding"])) for d in data]
        except (KeyError, TypeError, ValueError) as exc:
            raise EmbeddingError(f"embedding API sent an unexpected body: {exc}") from exc
        if len(vectors) != len(texts) or any(len(v) != self.dim for v in vectors):
            raise EmbeddingError(
                f"embedding API returned {len(vectors)} vectors of the wrong count or dimension"
                f" (expected {len(texts)} x {self.dim})"
            )
        return [_normalise(v) for v in vectors]

    def probe_dim(self) -> int:
        """The dimension the model answers with (one tiny request)."""
        try:
            resp = self.client.post("/embeddings", json={"model": self.model_name, "input": ["a"]})
        except httpx.HTTPError as exc:
            raise EmbeddingError(f"embedding API unreachable: {exc}", transient=True) from exc
        try:
            resp.raise_for_status()
            return len(resp.json()["data"][0]["embedding"])
        except (httpx.HTTPStatusError, KeyError, IndexError, TypeError, ValueError) as exc:
            raise EmbeddingError(f"embedding API answered {resp.status_code}") from exc

    def embed_documents(self, texts: Sequence[str]) -> list[list[float]]:
        out: list[list[float]] = []
        for start in range(0, len(texts), self.batch_size):
            out.extend(self._request(list(texts[start : start + self.batch_size])))
        return out

    def embed_query(self, text: str) -> list[float]:
        return self._request([text])[0]


def _normalise(vec: list[float]) -> list[float]:
    norm = math.sqrt(sum(x * x for x in vec)) or 1.0
    return [x / norm for x in vec]
