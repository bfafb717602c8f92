"""The reranker interface: score (query, passage) pairs; higher is more relevant."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence


class RerankerConfigError(RuntimeError):
    """The reranker settings cannot work (raised at startup, with what to change)."""


class Reranker(ABC):
    name: str

    @abstractmethod
    def rerank(self, query: str, texts: Sequence[str]) -> list[float]:
        """One score per text, in the order given."""


class NoReranker(Reranker):
    """The default: keeps the retrieval order (every text scores 0, ties keep order)."""

    name = "none"

    def rerank(self, query: str, texts: Sequence[str]) -> list[float]:
        return [0.0] * len(texts)
