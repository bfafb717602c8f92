"""Any OpenAI-compatible /chat/completions server, streamed (SSE `data:` lines, `[DONE]`).

Closing the stream (the consumer was cancelled) closes the HTTP response, which tells the
server to stop generating.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import httpx

from app.providers.llm.base import LLM, Generation, LLMError, Usage


class OpenAICompatibleLLM(LLM):
    name = "openai"

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
        super().__init__()
        self.url = base_url.rstrip("/") + "/chat/completions"
        self.model = model
        self.api_key = api_key
        self.temperature = temperature
        self.max_tokens = max_tokens
        self.timeout = httpx.Timeout(timeout_s, connect=min(timeout_s, 10.0))

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
        try:
            async with (
                httpx.AsyncClient(timeout=self.timeout) as client,
                client.stream("POST", self.url, json=self._body(generation),
                              headers=headers) as resp,
            ):
                if resp.status_code >= 400:
                    body = (await resp.aread())[:300].decode(errors="replace")
                    raise LLMError(
                        f"The language model server answered {resp.status_code}: {body}",
                        transient=resp.status_code >= 500 or resp.status_code == 429,
                    )
                async for line in resp.aiter_lines():
                    delta = self._parse(line)
                    if delta is None:
                        break
                    if delta:
                        yield delta
        except httpx.TimeoutException as exc:
            raise LLMError("The language model server did not answer in time.",
                           transient=True, timeout=True) from exc
        except httpx.HTTPError as exc:
            raise LLMError(f"The language model server could not be reached: {exc}",
                           transient=True) from exc

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
