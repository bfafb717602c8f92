"""Make a follow-up question standalone before retrieval.

With a generative provider, the model rewrites it (prompts/condense_v1.txt); its failure or
an empty answer falls back to the heuristic. Without one (extractive), the heuristic: when
the new message is short (at most SHORT_WORDS words) or contains a pronoun that points back
("it", "they", "this", ...), the previous standalone question is put in front of it, so
"and its side effects?" after "what is metformin used for?" retrieves with both.
"""

from __future__ import annotations

import re

from app.chat.prompts import condense_messages
from app.core.logging import get_logger
from app.providers.llm import LLM, ChatMessage, Generation, LLMError

log = get_logger(__name__)
SHORT_WORDS = 5
_PRONOUNS_TEXT = (
    "it its they them their theirs this that these those he him his she her there one ones "
    "such same former latter "
)
PRONOUNS = frozenset(_PRONOUNS_TEXT.split())
_WORD = re.compile(r"[a-z']+")


def heuristic(previous_query: str | None, message: str) -> str:
    if not previous_query:
        return message
    words = _WORD.findall(message.lower())
    if len(words) <= SHORT_WORDS or PRONOUNS.intersection(words):
        return f"{previous_query[-1000:]} {message}".strip()
    return message


async def standalone(llm: LLM, history: list[ChatMessage], previous_query: str | None,
                     message: str) -> str:
    if not history or previous_query is None:
        return message
    if not llm.generative:
        return heuristic(previous_query, message)
    try:
        rewritten = await llm.complete(Generation(
            messages=condense_messages(history, message), question=message,
            max_tokens=96, temperature=0.0))
    except LLMError as exc:
        log.warning("condense_failed", error=exc.message)
        return heuristic(previous_query, message)
    rewritten = " ".join(rewritten.split())[:1000]
    return rewritten or heuristic(previous_query, message)
