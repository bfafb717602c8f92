"""The Labeler interface: one model that reads a ready document and proposes labels.

A labeler never writes: it returns `ModelLabel`s and the label pipeline (labels/pipeline.py)
records them through `repository.replace_model_labels`, with the labeler's own run (status,
reason, timing). A labeler that raises fails only its own run.
"""

from __future__ import annotations

import uuid
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import Any

from app.labels.repository import ModelLabel

# Language and keywords read at most this much of a document (the start says enough).
TEXT_MAX_CHARS = 20_000


class LabelerError(Exception):
    """A labeler cannot label this document; the message is the run's plain reason."""


@dataclass(frozen=True)
class TaxonomyEntry:
    value: str
    description: str


@dataclass(frozen=True)
class TaxonomyVersion:
    version: int
    labels: tuple[TaxonomyEntry, ...]


@dataclass
class LabelSource:
    """What a labeler reads: the document's chunks as stored (text and vector), and the
    collection's taxonomy (None: the collection has none)."""

    document_id: uuid.UUID
    collection_id: uuid.UUID
    chunk_ids: list[int]
    texts: list[str]
    vectors: list[list[float]]
    taxonomy: TaxonomyVersion | None
    # Why the stored taxonomy could not be read (the topic labeler fails with this reason).
    taxonomy_error: str | None = None
    # What an earlier labeler of the same run found (e.g. "language": "de" for keywords).
    hints: dict[str, str] = field(default_factory=dict)
    # Each chunk's source (text, ocr, image_description); empty means all "text".
    sources: list[str] = field(default_factory=list)

    def text(self) -> str:
        """The document's own words (file text and OCR) for the text labelers: an image's
        description chunk is Cairn's sentence about the picture ("Image: x.png. It shows:
        ..."), whose language and keywords say nothing about the document."""
        kept = [t for t, s in zip(self.texts, self.sources or ["text"] * len(self.texts),
                                  strict=True) if s != "image_description"]
        return "\n".join(kept)[:TEXT_MAX_CHARS]


def parse_taxonomy(version: int, raw: Any) -> TaxonomyVersion:
    """A stored taxonomy version, checked (the API validates what it writes; a row written
    any other way may still be wrong, and then only the topic labeler fails)."""
    if not isinstance(raw, list) or not raw:
        raise LabelerError(f"Taxonomy version {version} has no list of labels.")
    entries = []
    for item in raw:
        value = item.get("value") if isinstance(item, dict) else None
        description = item.get("description") if isinstance(item, dict) else None
        if not isinstance(value, str) or not value.strip() or not isinstance(description, str):
            raise LabelerError(
                f"Taxonomy version {version} has a label without a value and a description."
            )
        entries.append(TaxonomyEntry(value.strip(), description))
    return TaxonomyVersion(version, tuple(entries))


class Labeler(ABC):
    name: str  # the run's name: "language", "keywords", "topics"
    kinds: tuple[str, ...]  # the label kinds it owns (its rerun replaces these)
    model_name: str
    model_version: str
    uses_taxonomy: bool = False

    @abstractmethod
    def label(self, source: LabelSource) -> list[ModelLabel]: ...
