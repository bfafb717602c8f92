"""The embedder interface. Vectors are L2-normalised so cosine == dot product."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence


class EmbeddingError(Exception):
    """The embedder failed. `transient` tells the worker whether a retry may help."""

    def __init__(self, message: str, *, transient: bool = False) -> None:
        super().__init__(message)
        self.transient = transient


class Embedder(ABC):
    #: stored with every vector, so a change of model is detectable
    model_name: str
    dim: int

    @abstractmethod
    def embed_documents(self, texts: Sequence[str]) -> list[list[float]]: ...

    @abstractmethod
    def embed_query(self, text: str) -> list[float]: ...

    def count_tokens(self, text: str) -> int:
        """Tokens as the model sees them (used by the chunker); a word estimate by default."""
        return max(1, int(len(text.split()) * 1.3))
