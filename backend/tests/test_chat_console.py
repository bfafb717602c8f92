"""The console's Chat tab handler against the real API (uvicorn): the answer streams in,
then its cited sources; an empty question and a wrong key are told plainly."""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Any

from tests.conftest import upload, wait_for_documents

CONSOLE_DIR = Path(__file__).resolve().parents[2] / "frontend" / "gradio-interface"
if str(CONSOLE_DIR) not in sys.path:
    sys.path.insert(0, str(CONSOLE_DIR))

import console_chat  # noqa: E402

TEXT = b"Glaciers carve U-shaped valleys as they move. Moraines are ridges of debris a glacier " \
       b"leaves behind when it retreats."


def test_chat_tab_streams_an_answer_then_its_sources(client: Any, api_url: str,
                                                     api_key: str) -> None:
    name = f"console-chat-{time.time_ns()}"
    doc = upload(client, [("glaciers.txt", TEXT)], collection=name).json()["documents"][0]["id"]
    assert wait_for_documents(client, [doc])[doc]["status"] == "ready"
    updates = list(console_chat.ask(api_url, api_key, "What do glaciers carve?", name, ""))
    assert len(updates) >= 2
    answer, sources, conversation, status = updates[-1]
    assert "U-shaped valleys" in answer and "[1]" in answer
    assert "glaciers.txt" in sources and conversation and status.startswith("extractive")
    again = list(console_chat.ask(api_url, api_key, "And moraines?", name, conversation))
    assert again[-1][2] == conversation and "Moraines" in again[-1][0]


def test_chat_tab_asks_for_a_question(api_url: str, api_key: str) -> None:
    assert list(console_chat.ask(api_url, api_key, "  ", None, "")) == [
        ("", "", "", "Type a question first.")]


def test_chat_tab_reports_a_wrong_key(api_url: str) -> None:
    (_, _, _, status), = list(console_chat.ask(api_url, "ck_wrong", "hello?", None, ""))
    assert status.startswith("Error:") and "401" in status
