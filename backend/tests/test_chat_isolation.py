"""Chat inherits the account rules: one user never sees another's conversations, and
sources never include a document the caller cannot read, also when a share is revoked in
the middle of a conversation. (The share is revoked by deleting its collection_shares row:
the unshare route is being reshaped on another branch.)"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import text

from tests.conftest import assert_error, upload, wait_for_documents

pytest_plugins = ["tests.chat_fixtures"]

SECRET = ("The Halcyon project budget for 2027 is 8.3 million euros, approved by the board "
          "in March. The Halcyon project lead is Dr. Ines Varga.")
OTHER = ("Sourdough bread is leavened with a culture of wild yeast and lactic acid bacteria. "
         "The starter must be fed with flour and water every day.")
QUESTION = "What is the Halcyon project budget for 2027?"


def _ingest(user_client: Any, name: str, filename: str, body: str) -> str:
    resp = upload(user_client, [(filename, body.encode())], collection=name)
    assert resp.status_code in (200, 201, 202), resp.text
    doc_id = str(resp.json()["documents"][0]["id"])
    assert wait_for_documents(user_client, [doc_id])[doc_id]["status"] == "ready"
    return doc_id


def _collection_id(user_client: Any, name: str) -> str:
    found = [c for c in user_client.get("/api/v1/collections").json() if c["name"] == name]
    return str(found[0]["id"])


def _doc_ids(body: dict[str, Any]) -> set[str]:
    return {s["document_id"] for s in body["sources"]}


def test_another_users_conversation_is_not_found(make_user: Any) -> None:
    _, alice = make_user()
    _, bob = make_user()
    cid = alice.post("/api/v1/chat", json={"message": "hello there"}).json()["conversation_id"]
    assert_error(bob.get(f"/api/v1/conversations/{cid}"), 404, "conversation_not_found")
    assert_error(bob.delete(f"/api/v1/conversations/{cid}"), 404)
    assert_error(bob.post("/api/v1/chat", json={"message": "and?", "conversation_id": cid}), 404)
    assert bob.get("/api/v1/conversations").json()["total"] == 0
    assert alice.get(f"/api/v1/conversations/{cid}").status_code == 200


def test_sources_never_include_another_users_documents(make_user: Any) -> None:
    _, alice = make_user()
    _, bob = make_user()
    secret = _ingest(alice, f"a-{uuid.uuid4().hex[:8]}", "halcyon.txt", SECRET)
    _ingest(bob, f"b-{uuid.uuid4().hex[:8]}", "bread.txt", OTHER)
    mine = alice.post("/api/v1/chat", json={"message": QUESTION}).json()
    assert secret in _doc_ids(mine)
    theirs = bob.post("/api/v1/chat", json={"message": QUESTION}).json()
    assert secret not in _doc_ids(theirs) and "8.3" not in theirs["answer"]


def test_a_share_revoked_mid_conversation_removes_its_sources(make_user: Any, db: Any) -> None:
    _, alice = make_user()
    bob_user, bob = make_user()
    name = f"a-{uuid.uuid4().hex[:8]}"
    secret = _ingest(alice, name, "halcyon.txt", SECRET)
    coll = _collection_id(alice, name)
    resp = alice.post(f"/api/v1/collections/{coll}/shares",
                      json={"email": bob_user.email, "permission": "read"})
    assert resp.status_code == 201, resp.text
    first = bob.post("/api/v1/chat", json={"message": QUESTION}).json()
    assert secret in _doc_ids(first) and "8.3 million" in first["answer"]

    db.execute(text("DELETE FROM collection_shares WHERE collection_id = :c AND user_id = :u"),
               {"c": coll, "u": str(bob_user.id)})
    db.commit()

    follow = bob.post("/api/v1/chat", json={
        "message": "Who is the Halcyon project lead?",
        "conversation_id": first["conversation_id"]}).json()
    assert secret not in _doc_ids(follow)
    assert "Varga" not in follow["answer"]
    stored = bob.get(f"/api/v1/conversations/{first['conversation_id']}").json()
    assert all(s["document_id"] != secret for m in stored["messages"] for s in m["sources"])
    # the earlier answer quoted the document: its text is withheld too
    assert not any("8.3 million" in m["content"] for m in stored["messages"])
    assert any("no longer read" in m["content"] for m in stored["messages"]
               if m["role"] == "assistant")
    assert_error(bob.post("/api/v1/chat", json={"message": QUESTION, "collection": name}), 404)
