"""The embedder interface. Vectors are L2-normalised so cosine == dot product."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence

from app.providers.embeddings.windows import char_windows, mean_normalised

# Per token of a text: its (start, end) characters and the number of the word it is part of
# (tokens of one word share it), as `Embedder.token_words` gives them.
TokenWords = tuple[Sequence[tuple[int, int]], Sequence[int | None]]


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

    def embed_bulk(self, texts: Sequence[str]) -> list[list[float]]:
        """Many documents' texts at once (the worker's embed batcher): the same vectors as
        embed_documents, run however suits throughput over latency (onnx.py runs its
        batches side by side)."""
        return self.embed_documents(texts)

    def warm_up(self) -> None:
        """Load what the first query needs (the API calls it at startup); nothing by
        default."""
        return None

    #: tokens of text one window holds (the model's limit minus its special tokens); None:
    #: the provider cannot tell, and a query is sent whole (the provider truncates it)
    window_tokens: int | None = None
    #: long queries (windows.py): overlap between windows and the most windows embedded
    query_window_overlap_tokens: int = 32
    query_max_windows: int = 4

    def token_offsets(self, text: str) -> list[tuple[int, int]] | None:
        """(start, end) character offsets of the text's tokens, or None when unknown."""
        return None

    def embed_query(self, text: str) -> list[float]:
        """One vector for the query; a query longer than the model's window is embedded as
        overlapping windows whose vectors are averaged (the rule is in windows.py)."""
        if self.window_tokens is not None:
            offsets = self.token_offsets(text)
            if offsets is not None and len(offsets) > self.window_tokens:
                spans = char_windows(offsets, self.window_tokens,
                                     self.query_window_overlap_tokens, self.query_max_windows)
                return mean_normalised(self.embed_documents([text[a:b] for a, b in spans]))
        return self.embed_documents([text])[0]

    def count_tokens(self, text: str) -> int:
        """Tokens as the model sees them (used by the chunker); a word estimate by default."""
        return max(1, int(len(text.split()) * 1.3))

    def token_words(self, text: str) -> TokenWords | None:
        """The text's tokens as (start, end) characters and word numbers, when the tokenizer
        makes each word's tokens from that word alone, so that a piece of the text cut
        between words has exactly the tokens inside it (ingest/token_count.py); None when
        it does not, or cannot tell (every piece is then counted by `count_tokens`)."""
        return None
