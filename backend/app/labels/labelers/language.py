"""Language of a document with lingua (models inside the wheel).

Memory, measured here: every language in high-accuracy mode ~1.3 GB and 9 s to load; every
language in low-accuracy mode ~150 MB; the default seven languages ~220 MB preloaded. So the
detector chooses among LABEL_LANGUAGES, and "all" means all languages in low-accuracy mode.
"""

from __future__ import annotations

from importlib.metadata import version

from lingua import IsoCode639_1, LanguageDetector, LanguageDetectorBuilder

from app.core.once import build_once
from app.labels.labelers.base import Labeler, LabelerError, LabelSource
from app.labels.repository import ModelLabel

KIND = "language"


@build_once(maxsize=4)  # label threads asking together share one detector
def _detector(languages: str) -> LanguageDetector:
    if languages.strip().lower() == "all":
        return LanguageDetectorBuilder.from_all_languages().with_low_accuracy_mode().build()
    codes = []
    for code in (c.strip() for c in languages.split(",") if c.strip()):
        try:
            codes.append(IsoCode639_1.from_str(code))
        except ValueError as exc:
            raise LabelerError(f"LABEL_LANGUAGES names an unknown language code {code!r}.") from exc
    if len(codes) < 2:
        raise LabelerError("LABEL_LANGUAGES must name at least two languages (or 'all').")
    return LanguageDetectorBuilder.from_iso_codes_639_1(*codes).build()


class LanguageLabeler(Labeler):
    name = "language"
    kinds = (KIND,)
    model_name = "lingua"

    def __init__(self, languages: str) -> None:
        self.languages = languages
        self.model_version = version("lingua-language-detector")

    def label(self, source: LabelSource) -> list[ModelLabel]:
        text = source.text()
        if not text.strip():
            return []
        values = _detector(self.languages).compute_language_confidence_values(text)
        if not values or values[0].value <= 0:
            return []  # nothing that reads as a language (numbers, symbols)
        top = values[0]
        code = top.language.iso_code_639_1.name.lower()
        source.hints["language"] = code
        return [ModelLabel(KIND, code, float(top.value))]
