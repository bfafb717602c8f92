"""Long queries on a model with a short window: overlapping token windows, averaged.

The rule (used by `Embedder.embed_query`):

- A query that fits the model's window (`window_tokens`, the model's limit minus its special
  tokens) is embedded as it is.
- A longer one is cut into windows of `window_tokens` tokens that overlap by
  `overlap_tokens` (stride = window - overlap); the last window ends at the last token.
- When that takes more than `max_windows` windows, `max_windows` windows are spread evenly
  from the first token to the last instead (the first starts at token 0, the last ends at the
  end; the parts between them are sampled), which bounds the cost of any query.
- Each window is embedded as a document; the query vector is the mean of the (unit) window
  vectors, normalised again to unit length.

Windows are given as character spans of the query, taken from the tokenizer's offsets, so a
provider re-tokenising a window's text sees the same tokens.
"""

from __future__ import annotations

import math
from collections.abc import Sequence


def token_windows(
    n_tokens: int, window_tokens: int, overlap_tokens: int, max_windows: int
) -> list[tuple[int, int]]:
    """[start, end) token ranges covering n_tokens; one range when it fits the window."""
    if window_tokens < 1 or max_windows < 1:
        raise ValueError("window_tokens and max_windows must be at least 1")
    if n_tokens <= window_tokens:
        return [(0, n_tokens)]
    stride = max(1, window_tokens - max(0, overlap_tokens))
    last_start = n_tokens - window_tokens
    starts = [*range(0, last_start, stride), last_start]
    if len(starts) > max_windows:
        if max_windows == 1:
            starts = [0]
        else:
            starts = [round(i * last_start / (max_windows - 1)) for i in range(max_windows)]
    return [(s, s + window_tokens) for s in starts]


def char_windows(
    offsets: Sequence[tuple[int, int]], window_tokens: int, overlap_tokens: int, max_windows: int
) -> list[tuple[int, int]]:
    """The token windows as character spans, from each token's (start, end) offsets."""
    if not offsets:
        return []
    ranges = token_windows(len(offsets), window_tokens, overlap_tokens, max_windows)
    return [(offsets[a][0], offsets[b - 1][1]) for a, b in ranges]


def mean_normalised(vectors: Sequence[Sequence[float]]) -> list[float]:
    """The mean of the vectors, scaled to unit length (a zero mean stays zero)."""
    if not vectors:
        raise ValueError("no vectors to average")
    dim = len(vectors[0])
    total = [0.0] * dim
    for vec in vectors:
        if len(vec) != dim:
            raise ValueError("vectors of different dimensions")
        for i, x in enumerate(vec):
            total[i] += x
    norm = math.sqrt(sum(x * x for x in total))
    return [x / norm for x in total] if norm > 0 else total
