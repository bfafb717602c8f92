"""Tenant isolation: two users with the same bytes in same-named collections each see only
their own documents, chunks, downloads, tasks and collections; other ids are 404. Sharing a
collection makes it readable (or writable) by the sharee, and unsharing takes that back."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from tests.conftest import upload, wait_for_documents

SAME_BYTES = b"Quarterly revenue of the glacier company rose by eleven percent in spring."


@pytest.fixture
def tenants(make_user: Any) -> dict[str, Any]:
    """alice and bob, each with the same file (and one of their own) in a collection of the
    same name; every document ready."""
    name = f"reports-{uuid.uuid4().hex[:8]}"
    out: dict[str, Any] = {"collection": name}
    for who, own in (("alice", b"Alice's private diary about her garden."),
                     ("bob", b"Bob's private notes about his bicycle.")):
        user, client = make_user()
        resp = upload(client, [("same.txt", SAME_BYTES), (f"{who}.txt", own)], collection=name)
        assert resp.status_code == 202, resp.text
        docs = resp.json()["documents"]
        assert [d["duplicate"] for d in docs] == [False, False]  # no cross-tenant dedup
        ids = [d["id"] for d in docs]
        final = wait_for_documents(client, ids)
        assert all(final[i]["status"] == "ready" for i in ids), final
        out[who] = {"user": user, "client": client, "ids": ids,
                    "tasks": [d["task_id"] for d in docs]}
    return out


def test_each_user_lists_only_their_own_documents(tenants: dict[str, Any]) -> None:
    for me, other in (("alice", "bob"), ("bob", "alice")):
        client = tenants[me]["client"]
        for params in ({}, {"collection": tenants["collection"]}, {"limit": 500}):
            listed = client.get("/api/v1/documents", params=params).json()
            ids = {d["id"] for d in listed["items"]}
            assert set(tenants[me]["ids"]) <= ids
            assert not ids & set(tenants[other]["ids"])


def test_the_same_bytes_are_two_documents_with_different_ids(tenants: dict[str, Any]) -> None:
    assert tenants["alice"]["ids"][0] != tenants["bob"]["ids"][0]
    a = tenants["alice"]["client"].get(f"/api/v1/documents/{tenants['alice']['ids'][0]}").json()
    b = tenants["bob"]["client"].get(f"/api/v1/documents/{tenants['bob']['ids'][0]}").json()
    assert a["sha256"] == b["sha256"] and a["collection"] == b["collection"]


@pytest.mark.parametrize("suffix", ["", "/chunks", "/download"])
def test_another_users_document_is_404_on_every_read_path(
    tenants: dict[str, Any], suffix: str
) -> None:
    alice, bob = tenants["alice"], tenants["bob"]
    for doc_id in bob["ids"]:
        resp = alice["client"].get(f"/api/v1/documents/{doc_id}{suffix}")
        assert resp.status_code == 404, resp.text
        assert resp.json()["error"]["code"] == "not_found"
        assert SAME_BYTES not in resp.content
    # ... exactly as for an id that does not exist at all (existence does not leak)
    unknown = alice["client"].get(f"/api/v1/documents/{uuid.uuid4()}{suffix}")
    assert unknown.status_code == 404
    own = alice["client"].get(f"/api/v1/documents/{alice['ids'][0]}{suffix}")
    assert own.status_code == 200, own.text


def test_another_users_task_is_404(tenants: dict[str, Any]) -> None:
    alice, bob = tenants["alice"], tenants["bob"]
    for task_id in bob["tasks"]:
        assert alice["client"].get(f"/api/v1/tasks/{task_id}").status_code == 404
    own = alice["client"].get(f"/api/v1/tasks/{alice['tasks'][0]}")
    assert own.status_code == 200 and own.json()["document_id"] == alice["ids"][0]


def test_deleting_another_users_document_is_404_and_changes_nothing(
    tenants: dict[str, Any],
) -> None:
    alice, bob = tenants["alice"], tenants["bob"]
    assert alice["client"].delete(f"/api/v1/documents/{bob['ids'][0]}").status_code == 404
    assert bob["client"].get(f"/api/v1/documents/{bob['ids'][0]}").status_code == 200
    # Alice deletes her copy of the shared bytes: Bob's download still works.
    assert alice["client"].delete(f"/api/v1/documents/{alice['ids'][0]}").status_code == 204
    resp = bob["client"].get(f"/api/v1/documents/{bob['ids'][0]}/download")
    assert resp.status_code == 200 and resp.content == SAME_BYTES


def test_collections_with_the_same_name_are_separate(tenants: dict[str, Any]) -> None:
    alice, bob = tenants["alice"], tenants["bob"]
    mine = {c["id"]: c for c in alice["client"].get("/api/v1/collections").json()}
    theirs = {c["id"]: c for c in bob["client"].get("/api/v1/collections").json()}
    assert not set(mine) & set(theirs)
    named = [c for c in mine.values() if c["name"] == tenants["collection"]]
    assert len(named) == 1 and named[0]["permission"] == "owner"
    assert named[0]["owner_email"] == alice["user"].email


def test_creating_a_collection_twice_is_409_only_for_the_same_owner(make_user: Any) -> None:
    _, alice = make_user()
    _, bob = make_user()
    name = f"c-{uuid.uuid4().hex[:8]}"
    assert alice.post("/api/v1/collections", json={"name": name}).status_code == 201
    assert alice.post("/api/v1/collections", json={"name": name}).status_code == 409
    assert bob.post("/api/v1/collections", json={"name": name}).status_code == 201


def _collection_id(client: Any, name: str) -> str:
    found = [c for c in client.get("/api/v1/collections").json()
             if c["name"] == name and c["permission"] == "owner"]
    assert len(found) == 1, found
    return str(found[0]["id"])


def test_a_shared_collection_is_readable_by_the_sharee_until_unshared(
    tenants: dict[str, Any],
) -> None:
    alice, bob = tenants["alice"], tenants["bob"]
    cid = _collection_id(alice["client"], tenants["collection"])
    doc = alice["ids"][1]
    assert bob["client"].get(f"/api/v1/documents/{doc}").status_code == 404

    resp = alice["client"].post(f"/api/v1/collections/{cid}/shares",
                                json={"email": bob["user"].email.upper(), "permission": "read"})
    assert resp.status_code == 201, resp.text
    share_id = resp.json()["id"]
    visible = {c["id"]: c for c in bob["client"].get("/api/v1/collections").json()}
    assert visible[cid]["permission"] == "read"
    assert visible[cid]["owner_email"] == alice["user"].email
    for suffix in ("", "/chunks", "/download"):
        assert bob["client"].get(f"/api/v1/documents/{doc}{suffix}").status_code == 200
    assert doc in {d["id"] for d in bob["client"].get("/api/v1/documents").json()["items"]}
    assert bob["client"].get(f"/api/v1/tasks/{alice['tasks'][1]}").status_code == 200
    # read-only: no delete, no upload into it, no managing its shares
    assert bob["client"].delete(f"/api/v1/documents/{doc}").status_code == 403
    resp = bob["client"].post("/api/v1/documents", files=[("files", ("x.txt", b"bob was here"))],
                              data={"collection_id": cid})
    assert resp.status_code == 403, resp.text
    assert bob["client"].get(f"/api/v1/collections/{cid}/shares").status_code == 403

    resp = alice["client"].delete(f"/api/v1/collections/{cid}/shares/{share_id}")
    assert resp.status_code == 204
    for suffix in ("", "/chunks", "/download"):
        assert bob["client"].get(f"/api/v1/documents/{doc}{suffix}").status_code == 404
    assert cid not in {c["id"] for c in bob["client"].get("/api/v1/collections").json()}


def test_a_write_share_accepts_uploads_by_collection_id(tenants: dict[str, Any]) -> None:
    alice, bob = tenants["alice"], tenants["bob"]
    cid = _collection_id(alice["client"], tenants["collection"])
    alice["client"].post(f"/api/v1/collections/{cid}/shares",
                         json={"email": bob["user"].email, "permission": "write"})
    resp = bob["client"].post("/api/v1/documents",
                              files=[("files", ("from-bob.txt", b"Bob adds a page to Alice's."))],
                              data={"collection_id": cid})
    assert resp.status_code == 202, resp.text
    new_id = resp.json()["documents"][0]["id"]
    assert alice["client"].get(f"/api/v1/documents/{new_id}").status_code == 200
    # By name, an upload still goes to the caller's own collection of that name.
    resp = bob["client"].post("/api/v1/documents", files=[("files", ("own.txt", b"bob's own"))],
                              data={"collection": tenants["collection"]})
    own_id = resp.json()["documents"][0]["id"]
    assert alice["client"].get(f"/api/v1/documents/{own_id}").status_code == 404


def test_only_the_owner_shares_and_not_with_themselves(tenants: dict[str, Any]) -> None:
    alice, bob = tenants["alice"], tenants["bob"]
    cid = _collection_id(alice["client"], tenants["collection"])
    resp = bob["client"].post(f"/api/v1/collections/{cid}/shares",
                              json={"email": bob["user"].email, "permission": "write"})
    assert resp.status_code == 404  # Bob cannot even see it
    resp = alice["client"].post(f"/api/v1/collections/{cid}/shares",
                                json={"email": alice["user"].email, "permission": "read"})
    assert resp.status_code == 422
    resp = alice["client"].post(f"/api/v1/collections/{cid}/shares",
                                json={"email": bob["user"].email, "permission": "admin"})
    assert resp.status_code == 422


def test_an_admin_cannot_read_other_users_documents(
    tenants: dict[str, Any], make_user: Any
) -> None:
    _, admin = make_user("admin")
    for doc_id in tenants["alice"]["ids"]:
        for suffix in ("", "/chunks", "/download"):
            assert admin.get(f"/api/v1/documents/{doc_id}{suffix}").status_code == 404
    page = admin.get("/api/v1/documents", params={"limit": 500}).json()
    listed = {d["id"] for d in page["items"]}
    assert not listed & set(tenants["alice"]["ids"] + tenants["bob"]["ids"])
    assert tenants["collection"] not in {c["name"] for c in admin.get("/api/v1/collections").json()}
