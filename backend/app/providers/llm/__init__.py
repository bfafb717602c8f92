"""Language models, chosen here from configuration (LLM_PROVIDER) or, where allowed
(LLM_ALLOWED_PROVIDERS), by the request; nothing else imports an implementation."""

from __future__ import annotations

from app.core.config import get_settings
from app.core.errors import Unprocessable
from app.providers.llm.base import LLM, ChatMessage, Generation, LLMError, Passage, Usage

__all__ = [
    "LLM",
    "PROVIDERS",
    "ChatMessage",
    "Generation",
    "LLMError",
    "Passage",
    "Usage",
    "get_llm",
]

PROVIDERS = ("extractive", "openai", "llamacpp", "ollama")


def get_llm(requested: str | None = None) -> LLM:
    """A fresh provider instance (cheap: the llamacpp model itself is loaded once)."""
    s = get_settings()
    name = requested or s.llm_provider
    if name not in PROVIDERS:
        raise Unprocessable(f"Unknown provider {name!r}; known: {', '.join(PROVIDERS)}.",
                            code="unknown_provider")
    if name != s.llm_provider and name not in s.llm_allowed_providers:
        raise Unprocessable(
            f"Provider {name!r} may not be chosen per request here "
            "(LLM_PROVIDER / LLM_ALLOWED_PROVIDERS).", code="provider_not_allowed")
    if name == "openai":
        from app.providers.llm.openai_compat import OpenAICompatibleLLM

        return OpenAICompatibleLLM(
            base_url=s.llm_base_url,
            model=s.llm_model,
            api_key=s.llm_api_key.get_secret_value() if s.llm_api_key else None,
            temperature=s.llm_temperature,
            max_tokens=s.llm_max_tokens,
            timeout_s=s.llm_timeout_s,
        )
    if name == "ollama":
        from app.providers.llm.ollama import OllamaLLM

        return OllamaLLM(base_url=s.ollama_base_url, model=s.ollama_model,
                         temperature=s.llm_temperature, max_tokens=s.llm_max_tokens,
                         timeout_s=s.llm_timeout_s)
    if name == "llamacpp":
        from app.providers.llm.llamacpp import LlamaCppLLM

        return LlamaCppLLM(
            model_path=s.llm_gguf_path,
            context_tokens=s.llm_context_tokens,
            threads=s.llm_threads,
            temperature=s.llm_temperature,
            max_tokens=s.llm_max_tokens,
            timeout_s=s.llm_timeout_s,
        )
    from app.providers.embeddings import get_embedder
    from app.providers.llm.extractive import ExtractiveLLM

    return ExtractiveLLM(get_embedder().embed_documents)
