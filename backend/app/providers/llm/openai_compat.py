"""Any OpenAI-compatible /chat/completions server, streamed (SSE `data:` lines, `[DONE]`).

Closing the stream (the consumer was cancelled) closes the HTTP response, which tells the
server to stop generating.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import aclosing
from typing import Any

from app.providers.llm.base import Generation, LLMError, Usage
from app.providers.llm.http_stream import HttpStreamingLLM


class OpenAICompatibleLLM(HttpStreamingLLM):
    name = "openai"
    retry_on_429 = True

    def __init__(
        self,
        *,
        base_url: str,
        model: str,
        api_key: str | None,
        temperature: float,
        max_tokens: int,
        timeout_s: float,
    ) -> None:
        super().__init__(url=base_url.rstrip("/") + "/chat/completions", model=model,
                         temperature=temperature, max_tokens=max_tokens, timeout_s=timeout_s)
        self.api_key = api_key

    def _body(self, generation: Generation) -> dict[str, Any]:
        return {
            "model": self.model,
            "messages": [{"role": m.role, "content": m.content} for m in generation.messages],
            "stream": True,
            "stream_options": {"include_usage": True},
            "temperature": (
                self.temperature if generation.temperature is None else generation.temperature
            ),
            "max_tokens": generation.max_tokens or self.max_tokens,
        }

    async def stream(self, generation: Generation) -> AsyncIterator[str]:
        self.usage = Usage()
        headers = {"Accept": "text/event-stream"}
        if self.api_key:
            headers["Authorization"] = f"Bearer {self.api_key}"
        async with aclosing(self.post_lines(self._body(generation), headers)) as lines:
            async for line in lines:
                delta = self._parse(line)
                if delta is None:
                    break
                if delta:
                    yield delta

    def _parse(self, line: str) -> str | None:
        """The text of one SSE line; "" for lines without text; None at [DONE]."""
        line = line.strip()
        if not line.startswith("data:"):
            return ""
        payload = line[5:].strip()
        if payload == "[DONE]":
            return None
        try:
            chunk = json.loads(payload)
            if not isinstance(chunk, dict):
                raise TypeError("chunk is not an object")
            if "error" in chunk:
                raise LLMError(f"The language model server reported: {chunk['error']}")
            usage = chunk.get("usage")
            if isinstance(usage, dict):
                self.usage = Usage(int(usage.get("prompt_tokens") or 0),
                                   int(usage.get("completion_tokens") or 0))
            choices = chunk.get("choices") or []
            if not choices:
                return ""
            content = (choices[0].get("delta") or {}).get("content")
            return content if isinstance(content, str) else ""
        except (ValueError, TypeError, AttributeError) as exc:
            raise LLMError(f"The language model server sent a malformed chunk: {payload[:200]}"
                           ) from exc
