"""Shared pieces of the labels tests: short documents with a known topic, a three-label
taxonomy, and waits on the label worker."""

from __future__ import annotations

import time
from typing import Any

TAXONOMY = [
    {"value": "finance", "description":
     "Money, banking, markets, investment, revenue, interest rates and company earnings."},
    {"value": "health", "description":
     "Medicine, illness, doctors, hospitals, patients, treatment and the human body."},
    {"value": "sports", "description":
     "Games and athletes: football, tennis, running, matches, teams and championships."},
]
DOCS = {
    "bank.txt": ("finance", b"The central bank raised interest rates again. Shares fell as "
                 b"investors worried about quarterly earnings and the bond market."),
    "clinic.txt": ("health", b"The patient was admitted to hospital with a fever. Doctors "
                   b"prescribed antibiotics and the infection cleared within a week."),
    "match.txt": ("sports", b"The home team won the football match two to one. The striker "
                  b"scored in the final minute and fans celebrated the championship."),
}
# About two of the labels at once: the less certain case the review band is for.
MIXED = ("mixed.txt", b"The hospital's budget deficit grew as the health insurer cut payments; "
         b"the clinic borrowed money from the bank at a higher interest rate.")
GERMAN = ("bericht.txt", "Der Bericht der Bank zeigt, dass die Umsätze im letzten Quartal "
          "stark gewachsen sind und die Zinsen weiter steigen werden.".encode())
FRENCH = ("rapport.txt", "Le rapport de la banque montre que le chiffre d'affaires a "
          "fortement augmenté au dernier trimestre et que les taux vont encore monter.".encode())


def create_collection(client: Any, name: str) -> str:
    resp = client.post("/api/v1/collections", json={"name": name})
    assert resp.status_code == 201, resp.text
    return str(resp.json()["id"])


def put_taxonomy(client: Any, collection_id: str, labels: list[dict[str, str]]) -> Any:
    return client.put(f"/api/v1/collections/{collection_id}/taxonomy", json={"labels": labels})


def wait_for_labels(client: Any, document_id: str, timeout: float = 120.0) -> dict[str, Any]:
    """Poll the document's labels until every labeler has finished (done or failed)."""
    deadline = time.monotonic() + timeout
    while True:
        resp = client.get(f"/api/v1/documents/{document_id}/labels")
        assert resp.status_code == 200, resp.text
        body: dict[str, Any] = resp.json()
        if all(r["status"] in ("done", "failed") for r in body["labelers"]):
            return body
        assert time.monotonic() < deadline, f"labels not finished after {timeout}s: {body}"
        time.sleep(0.2)


def wait_for_job(client: Any, job_id: str, timeout: float = 120.0) -> list[dict[str, Any]]:
    """Poll a labeling job until it finishes; every state seen, in order."""
    deadline = time.monotonic() + timeout
    seen: list[dict[str, Any]] = []
    while True:
        resp = client.get(f"/api/v1/labels/jobs/{job_id}")
        assert resp.status_code == 200, resp.text
        seen.append(resp.json())
        if seen[-1]["status"] in ("done", "failed"):
            return seen
        assert time.monotonic() < deadline, f"job not finished after {timeout}s: {seen[-1]}"
        time.sleep(0.1)


def of_kind(body: dict[str, Any], kind: str) -> dict[str, dict[str, Any]]:
    return {x["value"]: x for x in body["labels"] if x["kind"] == kind}
