"""Fixtures of the chat tests (registered with pytest_plugins by their modules).

`fake_llm`: a real OpenAI-compatible HTTP server on 127.0.0.1 (a thread of this process)
that speaks the streaming protocol (SSE `data:` chunks, `[DONE]`), with behaviours a test
sets: the chunks to send, a delay before the first byte or between chunks, a status code,
a malformed chunk. It records each request and whether the client went away mid-stream.
`fake_llm` points the settings' openai and ollama providers at it for one test. The chat
rate limit is put out of reach for the session (its own test lowers it).
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest


@dataclass
class FakeLLM:
    url: str = ""
    chunks: list[str] = field(default_factory=lambda: ["Hello", " world"])
    status: int = 200
    first_byte_delay: float = 0.0
    chunk_delay: float = 0.0
    malformed: bool = False
    requests: list[dict[str, Any]] = field(default_factory=list)
    disconnected: threading.Event = field(default_factory=threading.Event)
    sent: int = 0

    def reset(self) -> None:
        self.chunks = ["Hello", " world"]
        self.status = 200
        self.first_byte_delay = self.chunk_delay = 0.0
        self.malformed = False
        self.requests.clear()
        self.disconnected.clear()
        self.sent = 0


def _handler(fake: FakeLLM) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args: Any) -> None:
            pass

        def do_POST(self) -> None:
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            fake.requests.append(body)
            time.sleep(fake.first_byte_delay)
            if fake.status != 200:
                payload = json.dumps({"error": {"message": "boom"}}).encode()
                self.send_response(fake.status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)
                return
            if self.path.startswith("/api/chat"):
                self._ollama(body)
                return
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream")
            self.send_header("Connection", "close")
            self.end_headers()
            try:
                for i, text in enumerate(fake.chunks):
                    if fake.malformed and i == 1:
                        self.wfile.write(b"data: {not json\n\n")
                    else:
                        chunk = {"id": "c1", "object": "chat.completion.chunk",
                                 "model": body.get("model"),
                                 "choices": [{"index": 0, "delta": {"content": text},
                                              "finish_reason": None}]}
                        self.wfile.write(f"data: {json.dumps(chunk)}\n\n".encode())
                    self.wfile.flush()
                    fake.sent += 1
                    time.sleep(fake.chunk_delay)
                usage = {"id": "c1", "object": "chat.completion.chunk", "choices": [],
                         "usage": {"prompt_tokens": 11, "completion_tokens": len(fake.chunks)}}
                self.wfile.write(f"data: {json.dumps(usage)}\n\ndata: [DONE]\n\n".encode())
                self.wfile.flush()
            except (BrokenPipeError, ConnectionResetError):
                fake.disconnected.set()
            self.close_connection = True

        def _ollama(self, body: dict[str, Any]) -> None:
            """Ollama's native stream: one JSON object per line, done=true last."""
            self.send_response(200)
            self.send_header("Content-Type", "application/x-ndjson")
            self.send_header("Connection", "close")
            self.end_headers()
            for i, text in enumerate(fake.chunks):
                if fake.malformed and i == 1:
                    self.wfile.write(b"{not json\n")
                else:
                    line = {"model": body.get("model"), "done": False,
                            "message": {"role": "assistant", "content": text}}
                    self.wfile.write((json.dumps(line) + "\n").encode())
                self.wfile.flush()
            last = {"model": body.get("model"), "done": True, "message": {"content": ""},
                    "prompt_eval_count": 9, "eval_count": len(fake.chunks)}
            self.wfile.write((json.dumps(last) + "\n").encode())
            self.wfile.flush()
            self.close_connection = True

    return Handler


@pytest.fixture(scope="session", autouse=True)
def _chat_rate_limit_out_of_reach() -> None:
    """The chat tests ask many questions as one user; the limit itself has its own test."""
    from app.core.config import get_settings

    get_settings().rate_limit_chat = "1000000/minute"


@pytest.fixture(scope="session")
def fake_llm_server() -> Iterator[FakeLLM]:
    fake = FakeLLM()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(fake))
    server.daemon_threads = True
    fake.url = f"http://127.0.0.1:{server.server_address[1]}/v1"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield fake
    server.shutdown()


@pytest.fixture
def fake_llm(fake_llm_server: FakeLLM, monkeypatch: pytest.MonkeyPatch) -> FakeLLM:
    """The fake server, reset, and allowed as provider "openai" for this test."""
    from app.core.config import get_settings

    settings = get_settings()
    fake_llm_server.reset()
    monkeypatch.setattr(settings, "llm_base_url", fake_llm_server.url)
    monkeypatch.setattr(settings, "llm_model", "fake-model")
    monkeypatch.setattr(settings, "llm_timeout_s", 2.0)
    monkeypatch.setattr(settings, "ollama_base_url", fake_llm_server.url.removesuffix("/v1"))
    monkeypatch.setattr(settings, "llm_allowed_providers",
                        ["extractive", "openai", "llamacpp", "ollama"])
    return fake_llm_server


def sse_events(lines: Iterator[str]) -> list[tuple[str, dict[str, Any]]]:
    """Parse a text/event-stream body into (event, data) pairs."""
    events: list[tuple[str, dict[str, Any]]] = []
    name, data = "message", []
    for raw in lines:
        line = raw.rstrip("\r")
        if not line:
            if data:
                events.append((name, json.loads("\n".join(data))))
            name, data = "message", []
        elif line.startswith("event:"):
            name = line[6:].strip()
        elif line.startswith("data:"):
            data.append(line[5:].strip())
    if data:
        events.append((name, json.loads("\n".join(data))))
    return events
