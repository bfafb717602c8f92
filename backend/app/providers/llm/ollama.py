"""Ollama's native /api/chat, streamed (one JSON object per line, the last with done=true
and the token counts). Closing the stream stops Ollama's generation."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import aclosing
from typing import Any

from app.providers.llm.base import Generation, LLMError, Usage
from app.providers.llm.http_stream import HttpStreamingLLM


class OllamaLLM(HttpStreamingLLM):
    name = "ollama"
    who = "Ollama"

    def __init__(self, *, base_url: str, model: str, temperature: float, max_tokens: int,
                 timeout_s: float) -> None:
        super().__init__(url=base_url.rstrip("/") + "/api/chat", model=model,
                         temperature=temperature, max_tokens=max_tokens, timeout_s=timeout_s)

    def _body(self, generation: Generation) -> dict[str, Any]:
        return {
            "model": self.model,
            "messages": [{"role": m.role, "content": m.content} for m in generation.messages],
            "stream": True,
            "options": {
                "temperature": (self.temperature if generation.temperature is None
                                else generation.temperature),
                "num_predict": generation.max_tokens or self.max_tokens,
            },
        }

    async def stream(self, generation: Generation) -> AsyncIterator[str]:
        self.usage = Usage()
        async with aclosing(self.post_lines(self._body(generation))) as lines:
            async for line in lines:
                if not line.strip():
                    continue
                chunk = self._parse(line)
                text = (chunk.get("message") or {}).get("content")
                if isinstance(text, str) and text:
                    yield text
                if chunk.get("done"):
                    self.usage = Usage(int(chunk.get("prompt_eval_count") or 0),
                                       int(chunk.get("eval_count") or 0))
                    break

    @staticmethod
    def _parse(line: str) -> dict[str, Any]:
        try:
            chunk = json.loads(line)
        except ValueError as exc:
            raise LLMError(f"Ollama sent a malformed line: {line[:200]}") from exc
        if not isinstance(chunk, dict):
            raise LLMError(f"Ollama sent a malformed line: {line[:200]}")
        if "error" in chunk:
            raise LLMError(f"Ollama reported: {chunk['error']}")
        return chunk
