"""POST /api/v1/chat: streamed and one-JSON answers with checked citations, "not found",
provider failures, disconnects, follow-ups and conversations (real services; a fake
OpenAI-compatible server for the openai provider; the real SmolLM2 for llamacpp)."""

from __future__ import annotations

import time
from typing import Any

import httpx
import pytest

pytest.register_assert_rewrite("tests.chat_fixtures")

from tests.chat_fixtures import FakeLLM, sse_events  # noqa: E402
from tests.conftest import assert_error, upload, wait_for_documents  # noqa: E402

pytest_plugins = ["tests.chat_fixtures"]

TURBINE = (
    "The Zephyr X9 wind turbine has a rated power of 4.2 megawatts. Its rotor diameter is "
    "136 metres, and it starts generating at a wind speed of 3 metres per second. The turbine "
    "was first installed offshore near Esbjerg in 2019. Maintenance crews inspect the gearbox "
    "of the Zephyr X9 every six months."
)
BREAD = (
    "Sourdough bread is leavened with a culture of wild yeast and lactic acid bacteria. The "
    "starter must be fed with flour and water every day. A long cold fermentation deepens the "
    "flavour of the crumb."
)
QUESTION = "What is the rated power of the Zephyr X9 wind turbine?"


@pytest.fixture(scope="module")
def corpus(client: Any) -> dict[str, Any]:
    name = f"chat-{time.time_ns()}"
    resp = upload(client, [("turbine.txt", TURBINE.encode()), ("bread.txt", BREAD.encode())],
                  collection=name)
    assert resp.status_code in (200, 201, 202), resp.text
    docs = resp.json()["documents"]
    ids = [d["id"] for d in docs]
    states = wait_for_documents(client, ids)
    assert all(s["status"] == "ready" for s in states.values()), states
    by_name = {d["filename"]: d["id"] for d in docs}
    return {"collection": name, "turbine": by_name["turbine.txt"], "bread": by_name["bread.txt"]}


def ask(client: Any, **body: Any) -> Any:
    return client.post("/api/v1/chat", json=body)


def ask_stream(client: Any, **body: Any) -> list[tuple[str, dict[str, Any]]]:
    with client.stream("POST", "/api/v1/chat", json={**body, "stream": True}) as resp:
        assert resp.status_code == 200, resp.read()
        assert resp.headers["content-type"].startswith("text/event-stream")
        return sse_events(resp.iter_lines())


# --- extractive (the offline default) -------------------------------------------------------


def test_streamed_answer_cites_the_document_that_says_it(client: Any,
                                                          corpus: dict[str, Any]) -> None:
    events = ask_stream(client, message=QUESTION, collection=corpus["collection"])
    names = [n for n, _ in events]
    assert names[0] == "retrieval" and names[-1] == "done", names
    assert "token" in names and "citation" in names
    sources = events[0][1]["sources"]
    assert sources and set(sources[0]) >= {"n", "document_id", "filename", "page", "chunk_id",
                                            "char_start", "char_end", "snippet"}
    citations = [d for n, d in events if n == "citation"]
    assert citations[0]["source"]["document_id"] == corpus["turbine"]
    done = events[-1][1]
    text = "".join(d["text"] for n, d in events if n == "token")
    assert text.strip() == done["answer"]
    assert "4.2 megawatts" in done["answer"] and "[1]" in done["answer"]
    assert done["answer"].startswith("Extractive answer")
    assert done["provider"] == "extractive" and done["not_found"] is False
    assert set(done["timings"]) >= {"retrieval_ms", "first_token_ms", "total_ms"}


def test_json_answer_has_the_same_content_and_is_stored(client: Any,
                                                         corpus: dict[str, Any]) -> None:
    resp = ask(client, message=QUESTION, collection=corpus["collection"])
    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert body["citations"][0]["source"]["document_id"] == corpus["turbine"]
    assert "Sourdough" not in body["answer"]  # an irrelevant sentence is not picked
    conv = client.get(f"/api/v1/conversations/{body['conversation_id']}").json()
    assert [m["role"] for m in conv["messages"]] == ["user", "assistant"]
    assert conv["messages"][1]["sources"][0]["document_id"] == corpus["turbine"]
    assert conv["messages"][1]["provider"] == "extractive"


def test_a_question_the_documents_do_not_answer_says_so(client: Any,
                                                        corpus: dict[str, Any]) -> None:
    body = ask(client, message="Who won the 1966 football World Cup final?",
               collection=corpus["collection"]).json()
    assert body["not_found"] is True and body["sources"] == [] and body["citations"] == []
    assert "do not contain" in body["answer"]


def test_a_follow_up_is_made_standalone_before_retrieval(client: Any,
                                                         corpus: dict[str, Any]) -> None:
    first = ask(client, message=QUESTION, collection=corpus["collection"]).json()
    second = ask(client, message="And its rotor diameter?", collection=corpus["collection"],
                 conversation_id=first["conversation_id"]).json()
    assert second["query"].startswith(QUESTION)
    assert "136 metres" in second["answer"]
    page = client.get("/api/v1/conversations", params={"limit": 1}).json()
    assert page["limit"] == 1 and len(page["items"]) == 1 and page["total"] >= 1


def test_bad_requests_are_json_errors(client: Any, corpus: dict[str, Any]) -> None:
    assert_error(ask(client, message="   "), 422)
    assert_error(ask(client, message="x", collection="a", collections=["b"]), 422)
    assert_error(ask(client, message=QUESTION, provider="openai"), 422, "provider_not_allowed")
    assert_error(ask(client, message=QUESTION, provider="gpt5"), 422, "unknown_provider")
    assert_error(ask(client, message=QUESTION, collection="no-such-collection"), 404)
    assert_error(ask(client, message=QUESTION,
                     conversation_id="00000000-0000-0000-0000-000000000000"), 404)


def test_conversations_are_deleted_and_then_absent(client: Any, corpus: dict[str, Any]) -> None:
    cid = ask(client, message=QUESTION, collection=corpus["collection"]).json()[
        "conversation_id"]
    assert client.delete(f"/api/v1/conversations/{cid}").status_code == 204
    assert_error(client.get(f"/api/v1/conversations/{cid}"), 404)
    assert_error(client.delete(f"/api/v1/conversations/{cid}"), 404)


# --- the openai provider against a real local server -------------------------------------------


def test_a_citation_of_a_passage_not_given_is_removed_and_reported(
    client: Any, corpus: dict[str, Any], fake_llm: FakeLLM
) -> None:
    fake_llm.chunks = ["The X9 is rated at 4.2 MW [", "1]. It also flies [", "7", "]."]
    events = ask_stream(client, message=QUESTION, collection=corpus["collection"],
                        provider="openai")
    done = events[-1][1]
    n_sources = len(events[0][1]["sources"])
    assert n_sources < 7
    assert done["answer"] == "The X9 is rated at 4.2 MW [1]. It also flies ."
    assert done["invalid_citations"] == ["[7]"] and done["cited"] == [1]
    assert [d["n"] for n, d in events if n == "citation"] == [1]
    assert done["usage"]["completion_tokens"] == 4
    prompt = fake_llm.requests[0]["messages"][-1]["content"]
    assert "[1] (turbine.txt)" in prompt and "4.2 megawatts" in prompt


def test_a_provider_500_is_a_502_or_an_error_event(client: Any, corpus: dict[str, Any],
                                                   fake_llm: FakeLLM) -> None:
    fake_llm.status = 500
    body = {"message": QUESTION, "collection": corpus["collection"], "provider": "openai"}
    err = assert_error(client.post("/api/v1/chat", json=body), 502, "llm_error")
    assert "500" in err["message"]
    events = ask_stream(client, **body)
    assert [n for n, _ in events] == ["retrieval", "error"]
    assert events[-1][1]["code"] == "llm_error"


def test_a_provider_timeout_is_a_504(client: Any, corpus: dict[str, Any],
                                     fake_llm: FakeLLM) -> None:
    fake_llm.first_byte_delay = 3.5  # LLM_TIMEOUT_S is 2 in these tests
    started = time.monotonic()
    assert_error(ask(client, message=QUESTION, collection=corpus["collection"],
                     provider="openai"), 504, "llm_timeout")
    assert time.monotonic() - started < 3.4


def test_a_malformed_chunk_is_a_502(client: Any, corpus: dict[str, Any],
                                    fake_llm: FakeLLM) -> None:
    fake_llm.chunks = ["ok", "bad", "never"]
    fake_llm.malformed = True
    err = assert_error(ask(client, message=QUESTION, collection=corpus["collection"],
                           provider="openai"), 502, "llm_error")
    assert "malformed" in err["message"]


def test_client_disconnect_stops_generation(api_url: str, api_key: str, corpus: dict[str, Any],
                                            fake_llm: FakeLLM) -> None:
    fake_llm.chunks = [f"word{i} " for i in range(200)]
    fake_llm.chunk_delay = 0.05
    body = {"message": QUESTION, "collection": corpus["collection"], "provider": "openai",
            "stream": True}
    with httpx.Client(base_url=api_url, headers={"Authorization": f"Bearer {api_key}"},
                      timeout=10) as http, http.stream("POST", "/api/v1/chat", json=body) as resp:
        assert resp.status_code == 200
        for line in resp.iter_lines():
            if line.startswith("event: token"):
                break
    assert fake_llm.disconnected.wait(5), "the provider kept generating"
    assert fake_llm.sent < 100


# --- llamacpp: the bundled SmolLM2 in-process --------------------------------------------------


def test_llamacpp_streams_a_local_answer_with_only_given_citations(
    client: Any, corpus: dict[str, Any], fake_llm: FakeLLM, monkeypatch: pytest.MonkeyPatch
) -> None:
    from app.core.config import get_settings

    monkeypatch.setattr(get_settings(), "llm_max_tokens", 32)
    monkeypatch.setattr(get_settings(), "llm_timeout_s", 60.0)
    events = ask_stream(client, message=QUESTION, collection=corpus["collection"],
                        provider="llamacpp")
    names = [n for n, _ in events]
    assert names[0] == "retrieval" and names[-1] == "done", events[-1]
    done = events[-1][1]
    assert done["provider"] == "llamacpp" and done["answer"]
    assert 0 < done["usage"]["completion_tokens"] <= 32
    allowed = {s["n"] for s in events[0][1]["sources"]}
    assert set(done["cited"]) <= allowed


# --- ollama's native API against the same local server ---------------------------------------


def test_ollama_native_stream_answers_with_checked_citations(
    client: Any, corpus: dict[str, Any], fake_llm: FakeLLM
) -> None:
    fake_llm.chunks = ["Rated at 4.2 MW [1]", " or maybe [5]."]
    body = ask(client, message=QUESTION, collection=corpus["collection"],
               provider="ollama").json()
    assert body["answer"] == "Rated at 4.2 MW [1] or maybe ."
    assert body["invalid_citations"] == ["[5]"] and body["provider"] == "ollama"
    assert body["usage"] == {"prompt_tokens": 9, "completion_tokens": 2, "total_tokens": 11}
    assert fake_llm.requests[-1]["options"]["num_predict"] > 0


def test_ollama_errors_are_502(client: Any, corpus: dict[str, Any], fake_llm: FakeLLM) -> None:
    fake_llm.status = 500
    assert_error(ask(client, message=QUESTION, collection=corpus["collection"],
                     provider="ollama"), 502, "llm_error")
    fake_llm.status = 200
    fake_llm.malformed = True
    fake_llm.chunks = ["a", "b", "c"]
    err = assert_error(ask(client, message=QUESTION, collection=corpus["collection"],
                           provider="ollama"), 502, "llm_error")
    assert "malformed" in err["message"]


def test_chat_is_rate_limited_per_caller(make_user: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    from app.core.config import get_settings

    monkeypatch.setattr(get_settings(), "rate_limit_chat", "2/minute")
    _, alice = make_user()
    _, bob = make_user()
    assert alice.post("/api/v1/chat", json={"message": "hello"}).status_code == 200
    resp = alice.post("/v1/chat/completions",
                      json={"model": "cairn", "messages": [{"role": "user", "content": "hi"}]})
    assert resp.status_code == 200, resp.text
    err = assert_error(alice.post("/api/v1/chat", json={"message": "again"}), 429,
                       "rate_limited")
    assert "chat" in err["message"]
    assert bob.post("/api/v1/chat", json={"message": "hello"}).status_code == 200


def test_a_generative_provider_rewrites_the_follow_up_before_retrieval(
    client: Any, corpus: dict[str, Any], fake_llm: FakeLLM
) -> None:
    first = ask(client, message=QUESTION, collection=corpus["collection"],
                provider="openai").json()
    fake_llm.chunks = ["What is the rotor diameter ", "of the Zephyr X9 turbine?"]
    second = ask(client, message="And its rotor?", collection=corpus["collection"],
                 provider="openai", conversation_id=first["conversation_id"]).json()
    assert second["query"] == "What is the rotor diameter of the Zephyr X9 turbine?"
    condense = fake_llm.requests[-2]["messages"][-1]["content"]
    assert "Follow-up question: And its rotor?" in condense and QUESTION in condense
    answer_prompt = fake_llm.requests[-1]["messages"]
    assert [m["role"] for m in answer_prompt] == ["system", "user", "assistant", "user"]
