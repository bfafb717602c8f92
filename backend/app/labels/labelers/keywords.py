"""Keywords of a document with YAKE (statistical, no model file).

YAKE scores a phrase from 0 upwards, lower meaning more relevant; the label's confidence is
1 / (1 + score), so the best phrases come near 1 and it falls as they get less specific (a
relevance, not a probability: keywords rarely belong in the review queue).
"""

from __future__ import annotations

from importlib.metadata import version

import yake

from app.labels.labelers.base import Labeler, LabelSource
from app.labels.repository import ModelLabel

KIND = "keyword"
MAX_WORDS = 2  # phrases of one or two words


class KeywordLabeler(Labeler):
    name = "keywords"
    kinds = (KIND,)
    model_name = "yake"

    def __init__(self, top: int) -> None:
        self.top = top
        self.model_version = version("yake")

    def label(self, source: LabelSource) -> list[ModelLabel]:
        text = source.text()
        if self.top == 0 or not text.strip():
            return []
        # YAKE's stopword lists are per language (the language labeler ran first); a language
        # it has no list for falls back to none.
        lan = source.hints.get("language", "en")
        extractor = yake.KeywordExtractor(lan=lan, n=MAX_WORDS, top=self.top, dedup_lim=0.7)
        out = []
        for phrase, score in extractor.extract_keywords(text):
            value = " ".join(str(phrase).lower().split())[:200]
            if value:
                out.append(ModelLabel(KIND, value, 1.0 / (1.0 + max(0.0, float(score)))))
        return out
