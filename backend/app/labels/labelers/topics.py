"""Topics, zero-shot, from the collection's taxonomy with the configured embedding model.

Each taxonomy label is embedded once as "value: description" (cached per model and
taxonomy); the document is NOT embedded again: its chunk vectors are read from pgvector.

Calibration. For each label, s = the best cosine between the label and any of the
document's chunks (a topic one part of a long document covers counts). Then

    confidence(label) = softmax(s / T) over the taxonomy's labels

and a label is written when s >= LABEL_TOPIC_MIN_COSINE (the document is about it at all;
without this floor a document about none of the labels would still get the least-bad one
with a third of the mass) and confidence >= LABEL_TOPIC_MIN_CONFIDENCE.

How the defaults were tuned (the documents are in tests/labels_fixtures.py): with the
bundled all-MiniLM-L6-v2, a short document about one of three labels scores ~0.26-0.33
against its label and -0.05..0.07 against the others; one about two of them scores ~0.29 and
~0.21; one about none stays under 0.03. T = 0.1 turns a clear document into confidence
>= 0.8 and a two-topic one into ~0.65 / ~0.31 (inside the review band 0.4-0.7 for the first,
written but below the band for the second), and the 0.15 cosine floor leaves the unrelated
document unlabelled. A different embedding model needs its own T and floor (the settings).
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import numpy.typing as npt

from app.labels.labelers.base import Labeler, LabelerError, LabelSource, TaxonomyEntry
from app.labels.repository import ModelLabel
from app.providers.embeddings import Embedder

KIND = "topic"


def _unit(rows: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    norms = np.linalg.norm(rows, axis=1, keepdims=True)
    return rows / np.where(norms == 0, 1.0, norms)


class TopicLabeler(Labeler):
    name = "topics"
    kinds = (KIND,)
    uses_taxonomy = True

    def __init__(self, embedder: Embedder, *, temperature: float, min_cosine: float,
                 min_confidence: float) -> None:
        self.embedder = embedder
        self.model_name = embedder.model_name
        self.model_version = f"zero-shot-T{temperature}-c{min_cosine}"
        self.temperature = temperature
        self.min_cosine = min_cosine
        self.min_confidence = min_confidence
        self._embed_labels = lru_cache(maxsize=64)(self._label_vectors)

    def _label_vectors(self, entries: tuple[TaxonomyEntry, ...]) -> npt.NDArray[np.float64]:
        texts = [f"{e.value}: {e.description}" for e in entries]
        # embed_bulk: labels run in the worker, which holds the bulk session, not the query one
        return _unit(np.asarray(self.embedder.embed_bulk(texts), dtype=np.float64))

    def scores(self, source: LabelSource) -> list[tuple[str, float, float]]:
        """(value, best cosine, confidence) for every taxonomy label, best first."""
        if source.taxonomy_error is not None:
            raise LabelerError(source.taxonomy_error)
        taxonomy = source.taxonomy
        if taxonomy is None or not taxonomy.labels or not source.vectors:
            return []
        chunks = np.asarray(source.vectors, dtype=np.float64)
        labels = self._embed_labels(taxonomy.labels)
        if labels.shape[1] != chunks.shape[1]:
            raise LabelerError(
                f"The document's vectors ({chunks.shape[1]} dimensions) are not the embedding "
                f"model's ({labels.shape[1]}): re-ingest the document."
            )
        best = (_unit(chunks) @ labels.T).max(axis=0)
        logits = best / self.temperature
        probs = np.exp(logits - logits.max())
        probs /= probs.sum()
        out = [(e.value, float(s), float(p))
               for e, s, p in zip(taxonomy.labels, best, probs, strict=True)]
        return sorted(out, key=lambda t: -t[2])

    def label(self, source: LabelSource) -> list[ModelLabel]:
        return [
            ModelLabel(KIND, value, confidence)
            for value, cosine, confidence in self.scores(source)
            if cosine >= self.min_cosine and confidence >= self.min_confidence
        ]
