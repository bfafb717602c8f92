"""The LLM interface: a stream of text deltas for one generation, then its usage.

Every provider is an async generator so that cancelling the consumer (a client that went
away) closes the provider's stream and stops the generation upstream.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import AsyncIterator
from dataclasses import dataclass, field


class LLMError(Exception):
    """The provider failed. `timeout`: it did not answer in time; `transient`: a retry may
    help (a 5xx, a dropped connection)."""

    def __init__(self, message: str, *, transient: bool = False, timeout: bool = False) -> None:
        super().__init__(message)
        self.message = message
        self.transient = transient
        self.timeout = timeout


@dataclass(frozen=True)
class ChatMessage:
    role: str  # "system", "user" or "assistant"
    content: str


@dataclass(frozen=True)
class Passage:
    """A numbered passage given to the model: it is cited as [n]."""

    n: int
    text: str


@dataclass
class Usage:
    prompt_tokens: int = 0
    completion_tokens: int = 0

    def as_dict(self) -> dict[str, int]:
        return {
            "prompt_tokens": self.prompt_tokens,
            "completion_tokens": self.completion_tokens,
            "total_tokens": self.prompt_tokens + self.completion_tokens,
        }


@dataclass
class Generation:
    """One request to a provider. Generative providers read `messages`; the extractive one
    reads `question` and `passages` (the same passages the messages number)."""

    messages: list[ChatMessage]
    question: str
    passages: list[Passage] = field(default_factory=list)
    max_tokens: int | None = None
    temperature: float | None = None


class LLM(ABC):
    #: "extractive", "openai", "llamacpp": stored with every answer
    name: str
    #: False for the extractive provider: it cannot rewrite a follow-up question
    generative: bool = True

    def __init__(self) -> None:
        self.usage = Usage()

    @abstractmethod
    def stream(self, generation: Generation) -> AsyncIterator[str]:
        """Text deltas; `self.usage` is filled when the stream ends."""

    async def complete(self, generation: Generation) -> str:
        return "".join([delta async for delta in self.stream(generation)])
