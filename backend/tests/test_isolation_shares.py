"""Sharing a collection by email, as owner, read-sharee and write-sharee: what each may do,
that unsharing and downgrading take effect at once, that sharing does not reveal which
emails have accounts (invitations), and a few upload-by-id edges."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.auth_fixtures import create_test_user
from tests.conftest import upload, wait_for_documents

SECRET = b"The orchard ledger lists seventeen copper lanterns stored in the north barn."
QUERY = "orchard ledger copper lanterns"


@pytest.fixture
def owned(make_user: Any) -> dict[str, Any]:
    """alice owns a collection with one ready document; bob and carol exist."""
    alice, a = make_user()
    bob, b = make_user()
    carol, c = make_user()
    name = f"shared-{uuid.uuid4().hex[:8]}"
    resp = upload(a, [("ledger.txt", SECRET)], collection=name)
    assert resp.status_code == 202, resp.text
    doc = resp.json()["documents"][0]["id"]
    assert wait_for_documents(a, [doc])[doc]["status"] == "ready"
    cid = next(x["id"] for x in a.get("/api/v1/collections").json() if x["name"] == name)
    return {"alice": (alice, a), "bob": (bob, b), "carol": (carol, c), "cid": cid, "doc": doc}


def _share(client: Any, cid: str, email: str, permission: str = "read") -> Any:
    return client.post(f"/api/v1/collections/{cid}/shares",
                       json={"email": email, "permission": permission})


def _hits(client: Any, cid: str) -> set[str]:
    resp = client.post("/api/v1/search", json={"query": QUERY, "k": 20})
    assert resp.status_code == 200, resp.text
    return {h["document_id"] for h in resp.json()["results"]}


def _can_read_everything(client: Any, doc: str) -> bool:
    codes = {client.get(f"/api/v1/documents/{doc}{s}").status_code
             for s in ("", "/chunks", "/download")}
    return codes == {200}


def _cannot_read_anything(client: Any, doc: str) -> bool:
    codes = {client.get(f"/api/v1/documents/{doc}{s}").status_code
             for s in ("", "/chunks", "/download")}
    return codes == {404}


# --- item 8: no account enumeration ----------------------------------------------------------


def test_sharing_answers_the_same_for_known_and_unknown_emails(owned: dict[str, Any]) -> None:
    (_, a), (bob, _) = owned["alice"], owned["bob"]
    known = _share(a, owned["cid"], bob.email)
    unknown = _share(a, owned["cid"], f"nobody-{uuid.uuid4().hex[:8]}@nowhere.test")
    assert known.status_code == unknown.status_code == 201, (known.text, unknown.text)
    assert set(known.json()) == set(unknown.json()) == {
        "id", "collection_id", "email", "permission", "created_at"
    }
    listing = a.get(f"/api/v1/collections/{owned['cid']}/shares").json()
    assert len(listing) == 2 and all(set(s) == set(known.json()) for s in listing)


def test_an_invitation_grants_access_once_that_user_is_created(
    owned: dict[str, Any], app: Any
) -> None:
    _, a = owned["alice"]
    email = f"later-{uuid.uuid4().hex[:8]}@cairn.test"
    assert _share(a, owned["cid"], email.upper(), "write").status_code == 201
    later = create_test_user(email=email)
    with TestClient(app, raise_server_exceptions=False, headers=later.headers) as c:
        assert _can_read_everything(c, owned["doc"])
        visible = {x["id"]: x for x in c.get("/api/v1/collections").json()}
        assert visible[owned["cid"]]["permission"] == "write"
        assert owned["doc"] in _hits(c, owned["cid"])


def test_a_pending_invitation_grants_nothing(owned: dict[str, Any]) -> None:
    (_, a), (_, b) = owned["alice"], owned["bob"]
    assert _share(a, owned["cid"], f"pending-{uuid.uuid4().hex[:8]}@cairn.test").status_code == 201
    assert _cannot_read_anything(b, owned["doc"])
    assert owned["cid"] not in {x["id"] for x in b.get("/api/v1/collections").json()}
    assert owned["doc"] not in _hits(b, owned["cid"])


def test_sharing_with_yourself_is_still_422(owned: dict[str, Any]) -> None:
    alice, a = owned["alice"]
    resp = _share(a, owned["cid"], alice.email.upper())
    assert resp.status_code == 422 and resp.json()["error"]["code"]
    assert _share(a, owned["cid"], "not-an-email").status_code == 422


def test_a_pending_invitation_can_be_withdrawn_by_its_id(
    owned: dict[str, Any], app: Any
) -> None:
    _, a = owned["alice"]
    email = f"withdrawn-{uuid.uuid4().hex[:8]}@cairn.test"
    share_id = _share(a, owned["cid"], email).json()["id"]
    assert a.delete(f"/api/v1/collections/{owned['cid']}/shares/{share_id}").status_code == 204
    later = create_test_user(email=email)
    with TestClient(app, raise_server_exceptions=False, headers=later.headers) as c:
        assert _cannot_read_anything(c, owned["doc"])


# --- what a read-sharee and a write-sharee may do ------------------------------------------


def test_a_read_sharee_cannot_create_shares_or_delete_documents(owned: dict[str, Any]) -> None:
    (_, a), (bob, b), (carol, _) = owned["alice"], owned["bob"], owned["carol"]
    assert _share(a, owned["cid"], bob.email, "read").status_code == 201
    assert _can_read_everything(b, owned["doc"])
    resp = _share(b, owned["cid"], carol.email, "read")
    assert resp.status_code == 403, resp.text
    assert b.delete(f"/api/v1/documents/{owned['doc']}").status_code == 403
    assert a.get(f"/api/v1/documents/{owned['doc']}").status_code == 200


def test_a_write_sharee_cannot_create_shares_either(owned: dict[str, Any]) -> None:
    (_, a), (bob, b), (carol, _) = owned["alice"], owned["bob"], owned["carol"]
    assert _share(a, owned["cid"], bob.email, "write").status_code == 201
    assert _share(b, owned["cid"], carol.email, "read").status_code == 403
    assert b.get(f"/api/v1/collections/{owned['cid']}/shares").status_code == 403


def test_a_write_sharee_can_upload_and_delete(owned: dict[str, Any]) -> None:
    (_, a), (bob, b) = owned["alice"], owned["bob"]
    assert _share(a, owned["cid"], bob.email, "write").status_code == 201
    resp = b.post("/api/v1/documents", files=[("files", ("bob.txt", b"bob's page"))],
                  data={"collection_id": owned["cid"]})
    assert resp.status_code == 202, resp.text
    new = resp.json()["documents"][0]["id"]
    wait_for_documents(b, [new])
    assert a.get(f"/api/v1/documents/{new}").status_code == 200
    assert b.delete(f"/api/v1/documents/{owned['doc']}").status_code == 204
    assert a.get(f"/api/v1/documents/{owned['doc']}").status_code == 404


def test_unsharing_removes_search_chunk_and_download_access_at_once(
    owned: dict[str, Any],
) -> None:
    (_, a), (bob, b) = owned["alice"], owned["bob"]
    share_id = _share(a, owned["cid"], bob.email, "write").json()["id"]
    assert _can_read_everything(b, owned["doc"]) and owned["doc"] in _hits(b, owned["cid"])
    assert a.delete(f"/api/v1/collections/{owned['cid']}/shares/{share_id}").status_code == 204
    assert _cannot_read_anything(b, owned["doc"])
    assert owned["doc"] not in _hits(b, owned["cid"])
    resp = b.post("/api/v1/documents", files=[("files", ("late.txt", b"too late"))],
                  data={"collection_id": owned["cid"]})
    assert resp.status_code == 404, resp.text


def test_downgrading_write_to_read_stops_uploads_and_deletes(owned: dict[str, Any]) -> None:
    (_, a), (bob, b) = owned["alice"], owned["bob"]
    first = _share(a, owned["cid"], bob.email, "write").json()
    second = _share(a, owned["cid"], bob.email, "read")
    assert second.status_code == 201 and second.json()["id"] == first["id"]
    assert second.json()["permission"] == "read"
    visible = {x["id"]: x for x in b.get("/api/v1/collections").json()}
    assert visible[owned["cid"]]["permission"] == "read"
    resp = b.post("/api/v1/documents", files=[("files", ("x.txt", b"no longer"))],
                  data={"collection_id": owned["cid"]})
    assert resp.status_code == 403, resp.text
    assert b.delete(f"/api/v1/documents/{owned['doc']}").status_code == 403
    assert _can_read_everything(b, owned["doc"])


def test_a_sharee_can_leave_but_not_remove_other_shares(owned: dict[str, Any]) -> None:
    (_, a), (bob, b), (carol, c) = owned["alice"], owned["bob"], owned["carol"]
    _share(a, owned["cid"], bob.email)
    carols = _share(a, owned["cid"], carol.email).json()["id"]
    assert b.delete(f"/api/v1/collections/{owned['cid']}/shares/{carols}").status_code == 403
    assert _can_read_everything(c, owned["doc"])
    assert b.delete(f"/api/v1/collections/{owned['cid']}/shares/me").status_code == 204
    assert _cannot_read_anything(b, owned["doc"])
    assert a.delete(f"/api/v1/collections/{owned['cid']}/shares/me").status_code == 404


# --- upload by collection id, text search configuration ------------------------------------


def test_upload_to_a_collection_you_cannot_read_is_404(owned: dict[str, Any]) -> None:
    _, b = owned["bob"]
    for cid in (owned["cid"], str(uuid.uuid4())):
        resp = b.post("/api/v1/documents", files=[("files", ("x.txt", b"intruder"))],
                      data={"collection_id": cid})
        assert resp.status_code == 404, resp.text
        assert resp.json()["error"]["code"] == "not_found"
    listed = owned["alice"][1].get("/api/v1/documents", params={"limit": 500}).json()
    assert "x.txt" not in {d["filename"] for d in listed["items"]}


def test_a_bad_text_search_config_is_422(make_user: Any) -> None:
    _, client = make_user()
    name = f"ts-{uuid.uuid4().hex[:8]}"
    resp = client.post("/api/v1/collections",
                       json={"name": name, "text_search_config": "klingon"})
    assert resp.status_code == 422, resp.text
    assert resp.json()["error"]["code"]
    assert name not in {x["name"] for x in client.get("/api/v1/collections").json()}
    ok = client.post("/api/v1/collections", json={"name": name, "text_search_config": "simple"})
    assert ok.status_code == 201 and ok.json()["text_search_config"] == "simple"


# --- search document_ids ---------------------------------------------------------------------


def test_search_document_ids_naming_another_users_documents_returns_nothing_of_theirs(
    owned: dict[str, Any],
) -> None:
    (_, a), (_, b) = owned["alice"], owned["bob"]
    resp = upload(b, [("mine.txt", b"Bob's own orchard ledger of copper lanterns.")],
                  collection="bob-own")
    mine = resp.json()["documents"][0]["id"]
    wait_for_documents(b, [mine])
    resp = b.post("/api/v1/search",
                  json={"query": QUERY, "document_ids": [owned["doc"]], "k": 20})
    assert resp.status_code in (200, 404), resp.text
    if resp.status_code == 200:
        assert resp.json()["results"] == []
    both = b.post("/api/v1/search",
                  json={"query": QUERY, "document_ids": [owned["doc"], mine], "k": 20})
    assert both.status_code == 200, both.text
    assert {h["document_id"] for h in both.json()["results"]} == {mine}
    assert owned["doc"] in {h["document_id"] for h in a.post(
        "/api/v1/search", json={"query": QUERY, "document_ids": [owned["doc"]]}).json()["results"]}
