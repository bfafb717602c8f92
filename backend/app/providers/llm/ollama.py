"""Ollama's native /api/chat, streamed (one JSON object per line, the last with done=true
and the token counts). Closing the stream stops Ollama's generation."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import httpx

from app.providers.llm.base import LLM, Generation, LLMError, Usage


class OllamaLLM(LLM):
    name = "ollama"

    def __init__(self, *, base_url: str, model: str, temperature: float, max_tokens: int,
                 timeout_s: float) -> None:
        super().__init__()
        self.url = base_url.rstrip("/") + "/api/chat"
        self.model = model
        self.temperature = temperature
        self.max_tokens = max_tokens
        self.timeout = httpx.Timeout(timeout_s, connect=min(timeout_s, 10.0))

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
        try:
            async with (
                httpx.AsyncClient(timeout=self.timeout) as client,
                client.stream("POST", self.url, json=self._body(generation)) as resp,
            ):
                if resp.status_code >= 400:
                    body = (await resp.aread())[:300].decode(errors="replace")
                    raise LLMError(f"Ollama answered {resp.status_code}: {body}",
                                   transient=resp.status_code >= 500)
                async for line in resp.aiter_lines():
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
        except httpx.TimeoutException as exc:
            raise LLMError("Ollama did not answer in time.", transient=True,
                           timeout=True) from exc
        except httpx.HTTPError as exc:
            raise LLMError(f"Ollama could not be reached: {exc}", transient=True) from exc

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
