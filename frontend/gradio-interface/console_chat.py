"""The console's Chat tab: a question streamed through POST /api/v1/chat, the answer growing
as tokens arrive, then its sources. No Gradio import here (tests call it directly)."""

from __future__ import annotations

from collections.abc import Iterator

from api_client import ApiClient, ConsoleError

Update = tuple[str, str, str, str]  # answer markdown, sources markdown, conversation id, status


def sources_markdown(sources: list[dict[str, object]], cited: list[int]) -> str:
    if not sources:
        return ""
    lines = ["**Sources**"]
    for s in sources:
        page = f", page {s['page']}" if s.get("page") is not None else ""
        mark = "" if s["n"] in cited else " (not cited)"
        lines.append(f"- [{s['n']}] {s['filename']}{page} — {s['snippet']}{mark}")
    return "\n".join(lines)


def ask(base_url: str, api_key: str | None, message: str, collection: str | None,
        conversation_id: str) -> Iterator[Update]:
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
        for event, data in ApiClient(base_url, api_key).chat_stream(payload):
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
