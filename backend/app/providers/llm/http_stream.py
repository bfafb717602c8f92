"""The HTTP half of the streaming providers (OpenAI-compatible, Ollama): POST a JSON body,
yield the response's lines, and turn HTTP failures into LLMError. Use it inside
`contextlib.aclosing` so that a consumer that stops early (or is cancelled) closes the
response, which tells the server to stop generating."""

from __future__ import annotations

from collections.abc import AsyncGenerator
from typing import Any

import httpx

from app.providers.llm.base import LLM, LLMError


class HttpStreamingLLM(LLM):
    """A provider that streams from one URL with a model, a temperature and a token cap."""

    #: how error messages name the server
    who = "The language model server"
    #: 429 (rate limited) counts as transient, like a 5xx
    retry_on_429 = False

    def __init__(self, *, url: str, model: str, temperature: float, max_tokens: int,
                 timeout_s: float) -> None:
        super().__init__()
        self.url = url
        self.model = model
        self.temperature = temperature
        self.max_tokens = max_tokens
        self.timeout = httpx.Timeout(timeout_s, connect=min(timeout_s, 10.0))

    async def post_lines(
        self, body: dict[str, Any], headers: dict[str, str] | None = None
    ) -> AsyncGenerator[str, None]:
        try:
            async with (
                httpx.AsyncClient(timeout=self.timeout) as client,
                client.stream("POST", self.url, json=body, headers=headers) as resp,
            ):
                if resp.status_code >= 400:
                    text = (await resp.aread())[:300].decode(errors="replace")
                    raise LLMError(
                        f"{self.who} answered {resp.status_code}: {text}",
                        transient=resp.status_code >= 500
                        or (self.retry_on_429 and resp.status_code == 429),
                    )
                async for line in resp.aiter_lines():
                    yield line
        except httpx.TimeoutException as exc:
            raise LLMError(f"{self.who} did not answer in time.", transient=True,
                           timeout=True) from exc
        except httpx.HTTPError as exc:
            raise LLMError(f"{self.who} could not be reached: {exc}", transient=True) from exc
