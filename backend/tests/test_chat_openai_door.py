"""The OpenAI-compatible door, driven by the official `openai` Python package against the
real app served by uvicorn: models, answers with [n] markers and `sources`, streaming."""

from __future__ import annotations

import time
from typing import Any

import openai
import pytest

pytest.register_assert_rewrite("tests.chat_fixtures")

from tests.chat_fixtures import FakeLLM  # noqa: E402
from tests.conftest import upload, wait_for_documents  # noqa: E402

pytest_plugins = ["tests.chat_fixtures"]

TEXT = ("The Zephyr X9 wind turbine has a rated power of 4.2 megawatts. Its rotor diameter "
        "is 136 metres.")
QUESTION = "What is the rated power of the Zephyr X9 wind turbine?"


@pytest.fixture(scope="module")
def door(client: Any, api_url: str, api_key: str) -> dict[str, Any]:
    name = f"door-{time.time_ns()}"
    resp = upload(client, [("turbine.txt", TEXT.encode())], collection=name)
    doc = resp.json()["documents"][0]["id"]
    assert wait_for_documents(client, [doc])[doc]["status"] == "ready"
    sdk = openai.OpenAI(base_url=f"{api_url}/v1", api_key=api_key, max_retries=0, timeout=30)
    return {"sdk": sdk, "collection": name, "doc": doc, "url": api_url}


def test_models_are_cairn_and_one_per_readable_collection(door: dict[str, Any]) -> None:
    ids = [m.id for m in door["sdk"].models.list()]
    assert ids[0] == "cairn" and f"cairn:{door['collection']}" in ids


def test_a_completion_carries_markers_and_sources(door: dict[str, Any]) -> None:
    out = door["sdk"].chat.completions.create(
        model=f"cairn:{door['collection']}", messages=[{"role": "user", "content": QUESTION}])
    text = out.choices[0].message.content
    assert "4.2 megawatts" in text and "[1]" in text
    sources = out.model_extra["sources"]
    assert sources[0]["document_id"] == door["doc"] and sources[0]["n"] == 1
    assert out.model_extra["citations"][0]["n"] == 1


def test_a_streamed_completion_carries_markers_and_sources(door: dict[str, Any]) -> None:
    stream = door["sdk"].chat.completions.create(
        model="cairn", stream=True, messages=[{"role": "user", "content": QUESTION}])
    chunks = list(stream)
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert "4.2 megawatts" in text and "[1]" in text
    # model "cairn" is every collection of the user: other tests may hold the same text
    first = chunks[0].model_extra["sources"][0]
    assert first["filename"] == "turbine.txt" and "4.2 megawatts" in first["snippet"]
    assert chunks[-1].choices[0].finish_reason == "stop"


def test_a_wrong_key_is_refused(door: dict[str, Any]) -> None:
    bad = openai.OpenAI(base_url=f"{door['url']}/v1", api_key="ck_wrong", max_retries=0)
    with pytest.raises(openai.AuthenticationError):
        bad.models.list()
    with pytest.raises(openai.AuthenticationError):
        bad.chat.completions.create(model="cairn", messages=[{"role": "user", "content": "hi"}])


def test_an_unknown_model_or_collection_is_refused(door: dict[str, Any]) -> None:
    with pytest.raises(openai.UnprocessableEntityError):
        door["sdk"].chat.completions.create(model="gpt-4o",
                                            messages=[{"role": "user", "content": QUESTION}])
    with pytest.raises(openai.NotFoundError):
        door["sdk"].chat.completions.create(model="cairn:no-such-collection",
                                            messages=[{"role": "user", "content": QUESTION}])
    with pytest.raises(openai.UnprocessableEntityError):
        door["sdk"].chat.completions.create(
            model="cairn", messages=[{"role": "assistant", "content": "no question"}])


def test_a_provider_failure_is_an_sdk_error_streamed_or_not(
    door: dict[str, Any], fake_llm: FakeLLM, monkeypatch: pytest.MonkeyPatch
) -> None:
    from app.core.config import get_settings

    monkeypatch.setattr(get_settings(), "llm_provider", "openai")
    fake_llm.status = 500
    with pytest.raises(openai.InternalServerError):  # our 502
        door["sdk"].chat.completions.create(model="cairn",
                                            messages=[{"role": "user", "content": QUESTION}])
    with pytest.raises(openai.APIError):
        list(door["sdk"].chat.completions.create(
            model="cairn", stream=True, messages=[{"role": "user", "content": QUESTION}]))


def test_another_users_collection_is_not_a_model_for_them(door: dict[str, Any],
                                                         make_user: Any) -> None:
    stranger, _ = make_user()
    sdk = openai.OpenAI(base_url=f"{door['url']}/v1", api_key=stranger.api_key, max_retries=0)
    assert f"cairn:{door['collection']}" not in [m.id for m in sdk.models.list()]
    with pytest.raises(openai.NotFoundError):
        sdk.chat.completions.create(model=f"cairn:{door['collection']}",
                                    messages=[{"role": "user", "content": QUESTION}])
    out = sdk.chat.completions.create(model="cairn",
                                      messages=[{"role": "user", "content": QUESTION}])
    assert door["doc"] not in {s["document_id"] for s in out.model_extra["sources"]}


def test_invalid_generation_parameters_are_422(door: dict[str, Any]) -> None:
    for extra in ({"max_tokens": 0}, {"temperature": 5}, {"messages": []}):
        body: dict[str, Any] = {"model": "cairn",
                                "messages": [{"role": "user", "content": QUESTION}], **extra}
        with pytest.raises(openai.UnprocessableEntityError):
            door["sdk"].chat.completions.create(**body)
