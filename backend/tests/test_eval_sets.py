"""Golden sets per collection: upload (strictly checked), list, delete, run; access rules."""

from __future__ import annotations

import json
import math
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from tests.conftest import assert_error, upload, wait_for_documents

DOCS = [
    ("a.txt", b"Glaciers carve deep fjords along the northern coast."),
    ("b.txt", b"Copper mines in the desert pump water from aquifers."),
    ("c.txt", b"Spring tides flood the salt marsh after the new moon."),
    ("d.txt", b"Falcons nest on the cliffs above the glacier lake."),
    ("e.txt", b"Orchards of apple trees bloom in the valley each April."),
]
QUERIES = "\n".join(json.dumps(q) for q in [
    {"_id": "q1", "text": "glaciers fjords"},    # lexical: a, d     relevant a (rank 1)
    {"_id": "q2", "text": "apple orchards"},     # lexical: e        relevant c (not found)
    {"_id": "q3", "text": "glacier lake falcons"},  # lexical: d, a  relevant a (rank 2)
    {"_id": "q9", "text": "not judged, not stored"},
])  # fmt: skip
QRELS = "query-id\tcorpus-id\tscore\nq1\ta\t1\nq2\tc.txt\t1\nq3\ta.txt\t1\nq3\tb\t0\n"


@pytest.fixture(scope="module")
def owned(app: Any, client: Any) -> Iterator[dict[str, Any]]:
    """One owner and collection for the module (the documents are ingested once)."""
    from fastapi.testclient import TestClient

    from tests.auth_fixtures import create_test_user

    user = create_test_user()
    client = TestClient(app, raise_server_exceptions=False, headers=user.headers)
    name = f"gold-{uuid.uuid4().hex[:8]}"
    resp = upload(client, DOCS, collection=name)
    assert resp.status_code == 202, resp.text
    wait_for_documents(client, [d["id"] for d in resp.json()["documents"]])
    cid = next(c["id"] for c in client.get("/api/v1/collections").json() if c["name"] == name)
    yield {"user": user, "client": client, "cid": cid}
    client.close()


def post_set(
    client: Any, cid: str, *, name: str | None = None, queries: str | bytes = QUERIES,
    qrels: str | bytes = QRELS, match_by: str | None = None,
) -> Any:  # fmt: skip
    data = {"name": name or f"set-{uuid.uuid4().hex[:6]}"}
    if match_by is not None:
        data["match_by"] = match_by
    return client.post(
        f"/api/v1/collections/{cid}/eval-sets",
        data=data,
        files={"queries": ("queries.jsonl", queries), "qrels": ("test.tsv", qrels)},
    )


def test_a_golden_set_runs_and_its_metrics_match_a_hand_computation(
    owned: dict[str, Any],
) -> None:
    client, cid = owned["client"], owned["cid"]
    resp = post_set(client, cid, name="hand")
    assert resp.status_code == 201, resp.text
    created = resp.json()
    assert (created["queries"], created["judgements"], created["match_by"]) == (3, 4, "filename")
    listed = client.get(f"/api/v1/collections/{cid}/eval-sets").json()
    assert [s["name"] for s in listed] == ["hand"]
    run = client.post(f"/api/v1/collections/{cid}/eval-sets/{created['id']}/run",
                      json={"modes": ["lexical", "hybrid"]})  # fmt: skip
    assert run.status_code == 200, run.text
    lexical = run.json()["modes"]["lexical"]
    # q1: relevant at rank 1; q2: relevant never found; q3: relevant at rank 2
    assert lexical["ndcg@10"] == pytest.approx((1 + 0 + 1 / math.log2(3)) / 3, abs=1e-5)
    assert lexical["recall@100"] == pytest.approx(2 / 3, abs=1e-5)
    assert lexical["mrr@10"] == pytest.approx((1 + 0 + 0.5) / 3, abs=1e-5)
    assert lexical["queries"] == 3 and lexical["errors"] == 0
    assert set(run.json()["modes"]) == {"lexical", "hybrid"}
    assert 0 < run.json()["modes"]["hybrid"]["recall@100"] <= 1
    assert client.delete(f"/api/v1/collections/{cid}/eval-sets/{created['id']}").status_code == 204
    assert client.get(f"/api/v1/collections/{cid}/eval-sets").json() == []


def test_a_golden_set_can_name_documents_by_a_metadata_key(make_user: Any) -> None:
    _, client = make_user()
    name = f"meta-{uuid.uuid4().hex[:6]}"
    ids = []
    for i, (filename, text) in enumerate(DOCS[:2]):
        resp = upload(client, [(filename, text)], collection=name, metadata={"ref": f"D{i}"})
        ids.append(resp.json()["documents"][0]["id"])
    wait_for_documents(client, ids)
    cid = next(c["id"] for c in client.get("/api/v1/collections").json() if c["name"] == name)
    queries = '{"_id": "q", "text": "copper aquifers"}\n'
    resp = post_set(client, cid, queries=queries, qrels="q\tD1\t1\n", match_by="metadata:ref")
    assert resp.status_code == 201, resp.text
    run = client.post(f"/api/v1/collections/{cid}/eval-sets/{resp.json()['id']}/run")
    assert run.json()["modes"]["lexical"]["mrr@10"] == pytest.approx(1.0)
    # the filename does not count when matching by metadata
    bad = post_set(client, cid, queries=queries, qrels="q\tb.txt\t1\n", match_by="metadata:ref")
    assert_error(bad, 422, "unknown_documents")


def test_a_malformed_tsv_is_422_naming_the_line(owned: dict[str, Any]) -> None:
    resp = post_set(owned["client"], owned["cid"], qrels="q1\ta\t1\nq3\ta.txt\n")
    err = assert_error(resp, 422, "invalid_eval_set")
    assert "test.tsv line 2" in err["message"]
    resp = post_set(owned["client"], owned["cid"], qrels="q1\ta\tvery\n")
    assert "not a number" in assert_error(resp, 422, "invalid_eval_set")["message"]
    resp = post_set(owned["client"], owned["cid"], queries='{"_id": "q1", "text": 5}\n')
    assert_error(resp, 422, "invalid_eval_set")


def test_unknown_documents_are_422_with_examples(owned: dict[str, Any]) -> None:
    resp = post_set(owned["client"], owned["cid"], qrels="q1\tnope.txt\t1\nq3\ta\t1\n")
    err = assert_error(resp, 422, "unknown_documents")
    assert err["details"] == {"count": 1, "examples": ["nope.txt"]}


def test_other_bad_uploads_are_refused_clearly(owned: dict[str, Any]) -> None:
    client, cid = owned["client"], owned["cid"]
    missing = post_set(client, cid, qrels="q1\ta\t1\nq7\ta\t1\n")
    assert assert_error(missing, 422, "invalid_eval_set")["details"] == {
        "missing_query_ids": ["q7"]
    }
    assert_error(post_set(client, cid, qrels="q1\ta\t0\n"), 422, "invalid_eval_set")
    assert_error(post_set(client, cid, qrels=b"q1\ta\t1\n\xff\xfe"), 422, "invalid_eval_set")
    assert_error(post_set(client, cid, match_by="title"), 422, "invalid_eval_set")
    assert post_set(client, cid, name="twice").status_code == 201
    assert_error(post_set(client, cid, name="twice"), 409, "conflict")
    unknown = client.post(f"/api/v1/collections/{cid}/eval-sets/{uuid.uuid4()}/run")
    assert_error(unknown, 404, "not_found")
    bad_mode = client.post(f"/api/v1/collections/{cid}/eval-sets/{uuid.uuid4()}/run",
                           json={"modes": ["semantic"]})  # fmt: skip
    assert_error(bad_mode, 422, "validation_error")


def test_another_user_cannot_see_run_create_or_delete_a_golden_set(
    owned: dict[str, Any], make_user: Any
) -> None:
    client, cid = owned["client"], owned["cid"]
    created = post_set(client, cid).json()
    _, other = make_user()
    base = f"/api/v1/collections/{cid}/eval-sets"
    assert_error(other.get(base), 404, "not_found")
    assert_error(post_set(other, cid), 404, "not_found")
    assert_error(other.post(f"{base}/{created['id']}/run"), 404, "not_found")
    assert_error(other.delete(f"{base}/{created['id']}"), 404, "not_found")
    assert created["id"] in {s["id"] for s in client.get(base).json()}


def test_a_read_sharee_may_run_but_not_create_or_delete(
    owned: dict[str, Any], make_user: Any
) -> None:
    client, cid = owned["client"], owned["cid"]
    created = post_set(client, cid).json()
    reader, reader_client = make_user()
    share = client.post(f"/api/v1/collections/{cid}/shares",
                        json={"email": reader.email, "permission": "read"})  # fmt: skip
    assert share.status_code == 201, share.text
    base = f"/api/v1/collections/{cid}/eval-sets"
    run = reader_client.post(f"{base}/{created['id']}/run", json={"modes": ["lexical"]})
    assert run.status_code == 200, run.text
    assert_error(post_set(reader_client, cid), 403, "forbidden")
    assert_error(reader_client.delete(f"{base}/{created['id']}"), 403, "forbidden")


def test_cairn_eval_runs_a_stored_golden_set_on_a_server(
    owned: dict[str, Any], api_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    from app.cli import main as cairn

    client, cid, user = owned["client"], owned["cid"], owned["user"]
    assert post_set(client, cid, name="cli-set").status_code == 201
    name = next(c["name"] for c in client.get("/api/v1/collections").json() if c["id"] == cid)
    base = ["eval", "--api-url", api_url, "--api-key", user.api_key, "--collection", name]
    assert cairn([*base, "--eval-set", "cli-set", "--modes", "lexical"]) == 0
    out = capsys.readouterr().out
    assert "eval set 'cli-set'" in out and "lexical" in out
    assert f"{(1 + 1 / math.log2(3)) / 3:.4f}" in out  # the hand-computed nDCG@10
    assert cairn([*base, "--eval-set", "no-such-set"]) == 2
    assert "has no eval set 'no-such-set'" in capsys.readouterr().err
    assert cairn(["eval", "--collection", name, "--eval-set", "cli-set"]) == 2  # no --api-url
