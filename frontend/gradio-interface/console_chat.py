"""The console's Chat tab: a question streamed through POST /api/v1/chat, the answer growing
as tokens arrive, then its sources. No Gradio import here (tests call it directly)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx
from api_client import ApiClient, ConsoleError, error_from_response

Update = tuple[str, str, str, str]  # answer markdown, sources markdown, conversation id, status


def chat_stream(client: ApiClient,
                payload: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    """POST /api/v1/chat with stream=true: (event, data) pairs as they arrive. (Here rather
    than in api_client.py: the client's calls are one request, one JSON answer.)"""
    headers = {**client._headers(), "Accept": "text/event-stream"}
    url = f"{client.base_url}/api/v1/chat"
    try:
        with httpx.stream("POST", url, headers=headers, json={**payload, "stream": True},
                          timeout=httpx.Timeout(client.timeout, read=300.0)) as resp:
            if not resp.is_success:
                resp.read()
                raise error_from_response(resp)
            event = "message"
            for line in resp.iter_lines():
                if line.startswith("event:"):
                    event = line[6:].strip()
                elif line.startswith("data:"):
                    yield event, json.loads(line[5:])
    except httpx.TransportError as exc:
        raise ConsoleError(f"Cannot reach the API at {client.base_url}: {exc}") from exc


def sources_markdown(sources: list[dict[str, object]], cited: list[int]) -> str:
    if not sources:
        return ""
    lines = ["**Sources**"]
    for s in sources:
        page = f", page {s['page']}" if s.get("page") is not None else ""
        mark = "" if s["n"] in cited else " (not cited)"
        lines.append(f"- [{s['n']}] {s['filename']}{page} — {s['snippet']}{mark}")
    return "\n".join(lines)


def ask(base_url: str, auth: Any, message: str, collection: str | None,
        conversation_id: str) -> Iterator[Update]:
    """`auth`: the console's credentials, or an API key as a string."""
    if not (message or "").strip():
        yield "", "", conversation_id, "Type a question first."
        return
    payload: dict[str, object] = {"message": message}
    if collection:
        payload["collection"] = collection
    if conversation_id:
        payload["conversation_id"] = conversation_id
    answer, sources, cited = "", [], []
    try:
        for event, data in chat_stream(ApiClient(base_url, auth), payload):
            if event == "retrieval":
                sources = data["sources"]
                conversation_id = data.get("conversation_id") or conversation_id
            elif event == "token":
                answer += data["text"]
                yield answer, "", conversation_id, "Answering…"
            elif event == "citation":
                cited.append(data["n"])
            elif event == "error":
                yield answer, "", conversation_id, f"Error: {data['message']}"
                return
            elif event == "done":
                took = data["timings"].get("total_ms", 0)
                yield (data["answer"], sources_markdown(sources, data["cited"]), conversation_id,
                       f"{data['provider']} · {took:.0f} ms")
    except ConsoleError as exc:
        yield answer, "", conversation_id, f"Error: {exc}"
