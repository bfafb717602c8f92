"""The document labelers, chosen here once from configuration; nothing else imports one.

Order matters: language runs first so keywords can use its stopword list.
"""

from __future__ import annotations

from collections.abc import Sequence

from app.core.config import get_settings
from app.core.once import build_once
from app.labels.labelers.base import (
    Labeler,
    LabelerError,
    LabelSource,
    TaxonomyEntry,
    TaxonomyVersion,
    parse_taxonomy,
)

__all__ = [
    "NAMES",
    "LabelSource",
    "Labeler",
    "LabelerError",
    "TaxonomyEntry",
    "TaxonomyVersion",
    "get_labelers",
    "parse_taxonomy",
]

NAMES = ("language", "keywords", "topics")


@build_once
def _all() -> tuple[Labeler, ...]:
    from app.labels.labelers.keywords import KeywordLabeler
    from app.labels.labelers.language import LanguageLabeler
    from app.labels.labelers.topics import TopicLabeler
    from app.providers.embeddings import get_embedder

    s = get_settings()
    return (
        LanguageLabeler(s.label_languages),
        KeywordLabeler(s.label_keywords_top),
        TopicLabeler(get_embedder(), temperature=s.label_topic_temperature,
                     min_cosine=s.label_topic_min_cosine,
                     min_confidence=s.label_topic_min_confidence),
    )


def get_labelers(only: Sequence[str] | None = None) -> list[Labeler]:
    """The configured labelers (all, or those named in `only`), in run order."""
    return [lab for lab in _all() if only is None or lab.name in only]
