"""The offline default: an answer made of the passages' own sentences, no model writing.

1. Split every passage into sentences (short fragments and headings are skipped).
2. Score each sentence against the question: cosine similarity of the bundled embedder's
   vectors, plus a term-overlap bonus (share of the question's content words it contains).
3. Take the best sentences above a floor, dropping near-duplicates (cosine >= 0.9 with one
   already taken, e.g. the same sentence in two overlapping chunks).
4. Print them in reading order (by passage number, then position), each followed by the
   [n] of its passage, under a line that says the answer is extractive.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator, Callable, Sequence

from app.providers.llm.base import LLM, Generation, Passage, Usage

LABEL = "Extractive answer (sentences quoted from your documents; no language model wrote this):"
MAX_SENTENCES = 4
MIN_SCORE = 0.2
DUPLICATE_COSINE = 0.9
OVERLAP_WEIGHT = 0.3
_SPLIT = re.compile(r"(?<=[.!?])\s+(?=[\"'(\[]?[A-Z0-9])|\n{2,}")
_WORD = re.compile(r"[a-z0-9]+")
_STOPWORDS_TEXT = (
    "a an the of in on at to for from by with and or not no is are was were be been being do "
    "does did what which who whom whose when where why how that this these those it its as "
    "into than then there their they them he she his her we our you your i me my can could "
    "should would will may might must has have had about over under "
)
STOPWORDS = frozenset(_STOPWORDS_TEXT.split())

Embed = Callable[[Sequence[str]], list[list[float]]]


def sentences(text: str) -> list[str]:
    found = []
    for part in _SPLIT.split(text):
        part = " ".join(part.split())
        if len(part) >= 25 and len(part.split()) >= 4:
            found.append(part)
    return found


def content_words(text: str) -> set[str]:
    return {w for w in _WORD.findall(text.lower()) if w not in STOPWORDS and len(w) > 1}


def _dot(a: Sequence[float], b: Sequence[float]) -> float:
    return sum(x * y for x, y in zip(a, b, strict=False))


def select(question: str, passages: Sequence[Passage], embed: Embed,
           limit: int = MAX_SENTENCES) -> list[tuple[int, int, str]]:
    """(passage n, position, sentence) of the chosen sentences, in reading order."""
    candidates = [(p.n, i, s) for p in passages for i, s in enumerate(sentences(p.text))]
    if not candidates:
        return []
    vectors = embed([question] + [s for _, _, s in candidates])
    qvec, svecs = vectors[0], vectors[1:]
    qwords = content_words(question)
    scored = []
    for cand, vec in zip(candidates, svecs, strict=True):
        overlap = len(qwords & content_words(cand[2])) / len(qwords) if qwords else 0.0
        scored.append((_dot(qvec, vec) + OVERLAP_WEIGHT * overlap, cand, vec))
    scored.sort(key=lambda item: -item[0])
    chosen: list[tuple[tuple[int, int, str], list[float]]] = []
    for score, cand, vec in scored:
        if len(chosen) >= limit or (chosen and score < MIN_SCORE):
            break
        if any(_dot(vec, other) >= DUPLICATE_COSINE for _, other in chosen):
            continue
        chosen.append((cand, vec))
    return sorted(c for c, _ in chosen)


class ExtractiveLLM(LLM):
    name = "extractive"
    generative = False

    def __init__(self, embed: Embed) -> None:
        super().__init__()
        self.embed = embed

    async def stream(self, generation: Generation) -> AsyncIterator[str]:
        self.usage = Usage()
        picked = await asyncio.to_thread(select, generation.question, generation.passages,
                                         self.embed)
        if not picked:
            yield "The documents do not contain a sentence that answers this."
            return
        yield LABEL + "\n"
        for n, _, sentence in picked:
            yield f"\n- {sentence} [{n}]"
