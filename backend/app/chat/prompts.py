"""Prompt templates, versioned files in prompts/ (string.Template: $name placeholders).
A change of wording is a new file (answer_v2...) and a change of PROMPT_VERSION."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from string import Template

from app.providers.llm import ChatMessage, Passage

PROMPT_DIR = Path(__file__).parent / "prompts"
PROMPT_VERSION = "answer_v1"
CONDENSE_VERSION = "condense_v1"


@lru_cache
def template(name: str) -> Template:
    return Template((PROMPT_DIR / f"{name}.txt").read_text(encoding="utf-8"))


def passage_block(passages: list[Passage], labels: list[str]) -> str:
    return "\n\n".join(f"[{p.n}] ({label})\n{p.text.strip()}"
                       for p, label in zip(passages, labels, strict=True))


def answer_messages(question: str, passages: list[Passage], labels: list[str],
                    history: list[ChatMessage]) -> list[ChatMessage]:
    system = template(f"{PROMPT_VERSION}.system").substitute()
    user = template(f"{PROMPT_VERSION}.user").substitute(
        passages=passage_block(passages, labels), question=question.strip()
    )
    return [ChatMessage("system", system.strip()), *history, ChatMessage("user", user.strip())]


def condense_messages(history: list[ChatMessage], question: str) -> list[ChatMessage]:
    lines = "\n".join(f"{m.role}: {m.content.strip()[:500]}" for m in history)
    text = template(CONDENSE_VERSION).substitute(history=lines, question=question.strip())
    return [ChatMessage("user", text.strip())]
