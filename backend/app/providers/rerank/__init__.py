"""Rerankers, chosen once from configuration here; nothing else imports an implementation.

`get_reranker()` runs at API startup, so a misconfigured reranker stops the API with a
message saying what to fix instead of failing on the first search.
"""

from __future__ import annotations

from pathlib import Path

from app.core.config import Settings, get_settings
from app.core.once import build_once
from app.providers.rerank.base import NoReranker, Reranker, RerankerConfigError

__all__ = ["NoReranker", "Reranker", "RerankerConfigError", "build_reranker", "get_reranker"]


def build_reranker(settings: Settings) -> Reranker:
    if settings.reranker == "none":
        return NoReranker()
    if not settings.reranker_model:
        raise RerankerConfigError(
            "RERANKER=cross-encoder needs RERANKER_MODEL: the path of a local cross-encoder "
            "directory (nothing is downloaded). Set RERANKER=none to disable reranking."
        )
    path = Path(settings.reranker_model).expanduser()
    if not path.is_dir():
        raise RerankerConfigError(
            f"RERANKER_MODEL={settings.reranker_model!r} is not a local directory. Point it "
            "at a downloaded cross-encoder (config.json + weights); model names are not "
            "fetched. Set RERANKER=none to disable reranking."
        )
    from app.providers.rerank.cross_encoder import CrossEncoderReranker

    return CrossEncoderReranker(path)


@build_once
def get_reranker() -> Reranker:
    return build_reranker(get_settings())
