"""The Documents tab's picture view, through the API only: the thumbnail, what the models saw
in an image (objects, the safety score), the text OCR read off it, and every label with its
source and each labeler's run. A document without them (a text file, a PDF without a
thumbnail) simply shows less; an error of the API is shown as the other tabs show it."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

from api_client import SIGN_IN_FIRST, ApiClient, Auth, ConsoleError
from console_handlers import Rows, error_message
from console_render import shorten

LABEL_HEADERS = ["kind", "value", "confidence", "source", "status"]
OCR_EXCERPT = 600


class ImageClient(ApiClient):
    def _optional(self, path: str) -> Any | None:
        """GET a part a document may not have (404: None); other errors raise."""
        resp = self._request("GET", path, ok=(404,))
        return None if resp.status_code == 404 else resp

    def thumbnail(self, document_id: str) -> bytes | None:
        resp = self._optional(f"/api/v1/documents/{document_id}/thumbnail")
        return None if resp is None else bytes(resp.content)

    def labels(self, document_id: str) -> dict[str, Any]:
        body: dict[str, Any] = self._json("GET", f"/api/v1/documents/{document_id}/labels")
        return body

    def image_analysis(self, document_id: str) -> dict[str, Any] | None:
        resp = self._optional(f"/api/v1/documents/{document_id}/image-analysis")
        return None if resp is None else dict(resp.json())


def image_view(base_url: str, auth: Auth, document_id: str | None) -> tuple[str | None, Rows, str]:
    """(thumbnail file path or None, label rows, a Markdown summary)."""
    doc_id = (document_id or "").strip()
    if not doc_id:
        return None, [], ""
    try:
        client = ImageClient(base_url, auth)
        if not client.has_credentials():
            raise ConsoleError(SIGN_IN_FIRST, status=401, code="not_signed_in")
        thumb = client.thumbnail(doc_id)
        labels = client.labels(doc_id)
        analysis = client.image_analysis(doc_id)
        chunks = client.list_chunks(doc_id)
    except ConsoleError as exc:
        return None, [], error_message(exc)
    path = None
    if thumb is not None:
        path = str(Path(tempfile.mkdtemp(prefix="cairn-thumb-")) / "thumbnail.webp")
        Path(path).write_bytes(thumb)
    rows = [[lab["kind"], lab["value"], f"{lab['confidence']:.2f}", lab["source"], lab["status"]]
            for lab in labels.get("labels", [])]
    return path, rows, _summary(analysis, chunks, labels)


def _summary(analysis: dict[str, Any] | None, chunks: dict[str, Any],
             labels: dict[str, Any]) -> str:
    lines = []
    if analysis is not None:
        nsfw = analysis.get("nsfw")
        lines.append("**Safety (NSFW score):** "
                     + ("not scored (IMAGE_SAFETY=none)" if nsfw is None else f"{nsfw:.2f}"))
        objects = ", ".join(f"{o['value']} {o['confidence']:.0%}"
                            for o in analysis.get("objects", []))
        lines.append(f"**What it shows:** {objects or 'nothing the classifier is sure of'}")
    ocr = " ".join(c["text"] for c in chunks.get("items", []) if c.get("source") == "ocr")
    if ocr:
        lines.append(f"**Text read by OCR:** {shorten(ocr, OCR_EXCERPT)}")
    runs = [f"{run['name']} {run['status']}"
            + (f" ({run['ms']:.0f} ms)" if run.get("ms") is not None else "")
            + (f": {run['error']}" if run.get("error") else "")
            for run in labels.get("labelers", [])]
    if runs:
        lines.append("**Labelers:** " + "; ".join(runs))
    return "\n\n".join(lines)
