"""Randomized: three users with ten short documents each (some with identical bytes, all in
collections of the same names) run thirty searches; no hit ever comes from another user."""

from __future__ import annotations

import random
import uuid
from typing import Any

from tests.conftest import upload, wait_for_documents

WORDS = (
    "glacier", "harbor", "orchard", "lantern", "copper", "meadow", "falcon", "quartz", "willow",
    "ember", "canyon", "tundra", "violet", "marble", "thunder", "saffron", "beacon", "pebble",
    "cobalt", "juniper",
)
SHARED_TEXT = b"The lighthouse keeper logs every passing ship and the tide at dawn."


def _doc(rng: random.Random) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(14)) + "."


def test_thirty_random_searches_never_cross_tenants(make_user: Any) -> None:
    rng = random.Random(20261125)
    names = [f"iso-{uuid.uuid4().hex[:6]}", f"iso-{uuid.uuid4().hex[:6]}"]
    tenants = []
    for _ in range(3):
        user, client = make_user()
        files = [(f"d{i}.txt", _doc(rng).encode()) for i in range(9)] + [("same.txt", SHARED_TEXT)]
        ids: list[str] = []
        for chunk, name in ((files[:5], names[0]), (files[5:], names[1])):
            resp = upload(client, chunk, collection=name)
            assert resp.status_code == 202, resp.text
            ids += [d["id"] for d in resp.json()["documents"]]
        tenants.append({"user": user, "client": client, "ids": set(ids)})
    for t in tenants:
        final = wait_for_documents(t["client"], sorted(t["ids"]), timeout=300)
        assert all(d["status"] == "ready" for d in final.values()), final

    own_hits = 0
    for i in range(30):
        t = rng.choice(tenants)
        query = "lighthouse tide" if i % 5 == 0 else " ".join(rng.sample(WORDS, 3))
        body: dict[str, Any] = {"query": query, "k": 30}
        if i % 3 == 1:
            body["collection"] = rng.choice(names)
        resp = t["client"].post("/api/v1/search", json=body)
        assert resp.status_code == 200, resp.text
        hits = resp.json()["results"]
        foreign = [h for h in hits if h["document_id"] not in t["ids"]]
        assert not foreign, (i, body, foreign)
        own_hits += len(hits)
    assert own_hits > 30  # the searches did find things: only ever the caller's own


def test_search_in_another_users_collection_name_finds_nothing_of_theirs(
    make_user: Any,
) -> None:
    name = f"secret-{uuid.uuid4().hex[:6]}"
    _, owner = make_user()
    _, other = make_user()
    resp = upload(owner, [("s.txt", b"The vault code is hidden under the blue marble stone.")],
                  collection=name)
    doc_id = resp.json()["documents"][0]["id"]
    wait_for_documents(owner, [doc_id])
    mine = owner.post("/api/v1/search", json={"query": "vault code marble", "collection": name})
    assert [h["document_id"] for h in mine.json()["results"]][:1] == [doc_id]
    theirs = other.post("/api/v1/search", json={"query": "vault code marble", "collection": name})
    assert theirs.status_code == 404
    everything = other.post("/api/v1/search", json={"query": "vault code marble stone"})
    assert everything.status_code == 200
    assert doc_id not in {h["document_id"] for h in everything.json()["results"]}
