"""What each console button does: call the API, shape the answer for display.

Handlers take plain values (what Gradio passes from its components) and return plain values
(table rows, dicts, HTML, Markdown messages). A failed call never raises: it comes back as a
message starting with "Error:" holding the API's own words. No Gradio import here, so tests
call these directly.

Who the console acts for (`auth`): the browser session's Credentials (an email + password
sign-in, or a pasted API key), or a plain string taken as an API key. Without any, every
handler that acts answers "Sign in first" (the server's CAIRN_API_KEY stands in only on
loopback with CONSOLE_USE_SERVER_KEY=true; see api_client.server_key_allowed).
"""

from __future__ import annotations

import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import console_render as render
from api_client import SIGN_IN_FIRST, ApiClient, Auth, ConsoleError, Credentials, SearchCapabilities

ALL = ""  # the "all collections" / "any status" choice
STATUSES = ("queued", "processing", "ready", "failed")
Rows = list[list[Any]]


def error_message(exc: ConsoleError) -> str:
    return f"**Error:** {exc.message}"


def _client(base_url: str, auth: Auth) -> ApiClient:
    """A client acting for these credentials; ConsoleError("Sign in first…") without any."""
    client = ApiClient(base_url, auth)
    if not client.has_credentials():
        raise ConsoleError(SIGN_IN_FIRST, status=401, code="not_signed_in")
    return client


def _public_client(base_url: str, auth: Auth) -> ApiClient:
    """For what needs nobody signed in (readiness, the API's own schema)."""
    return ApiClient(base_url, auth)


# --- signing in ----------------------------------------------------------------------------


def sign_in(
    base_url: str, creds: Credentials | None, email: str | None, password: str | None
) -> tuple[Credentials, str]:
    """Email + password through the API; the tokens stay in this browser session's state."""
    creds = creds if isinstance(creds, Credentials) else Credentials()
    if not (email or "").strip() or not password:
        return creds, "**Error:** give your email and your password."
    try:
        ApiClient(base_url, creds).login(email or "", password)
    except ConsoleError as exc:
        creds.clear()
        if exc.status == 401:
            return creds, "**Sign-in failed:** wrong email or password (or the account is off)."
        if exc.status == 429:
            return creds, f"**Sign-in refused:** too many attempts. {exc.message}"
        return creds, error_message(exc)
    return creds, creds.describe()


def use_api_key(creds: Credentials | None, key: str | None) -> tuple[Credentials, str]:
    """A pasted API key replaces any sign-in of this browser session."""
    creds = creds if isinstance(creds, Credentials) else Credentials()
    creds.clear()
    creds.api_key = (key or "").strip()
    if not creds.api_key:
        return creds, "**Error:** paste an API key (it starts with `ck_`)."
    return creds, creds.describe()


def sign_out(creds: Credentials | None) -> tuple[Credentials, str]:
    creds = creds if isinstance(creds, Credentials) else Credentials()
    creds.clear()
    return creds, "Signed out. " + creds.describe()


def _path_of(item: Any) -> str:
    """Gradio hands files over as paths (str), or objects with a `.name` path."""
    if isinstance(item, str | Path):
        return str(item)
    name = getattr(item, "name", None)
    if isinstance(name, str):
        return name
    raise ConsoleError(f"Cannot read the uploaded file {item!r}.")


# --- upload ------------------------------------------------------------------------------


def upload_files(
    base_url: str,
    auth: Auth,
    files: Sequence[Any] | None,
    collection: str | None,
    metadata: str | None,
    reingest: bool,
    wait_s: float | None = 0,
) -> tuple[Rows, str]:
    """Upload (asynchronous: the API answers at once) or, with `wait_s` seconds, synchronous:
    the API answers when every file is ready or failed, or when the wait is over."""
    try:
        client = _client(base_url, auth)
    except ConsoleError as exc:
        return [], error_message(exc)
    if not files:
        return [], "**Error:** choose at least one file to upload."
    try:
        paths = [_path_of(f) for f in files]
        body = client.upload(
            paths,
            collection=(collection or "").strip() or None,
            metadata=metadata,
            reingest=bool(reingest),
            wait_s=float(wait_s or 0),
        )
    except ConsoleError as exc:
        return [], error_message(exc)
    rows = render.upload_rows(body)
    dupes = sum(1 for r in rows if r[3] == "yes")
    note = f" ({dupes} already known)" if dupes else ""
    statuses = [r[2] for r in rows]
    if wait_s and all(s in ("ready", "failed") for s in statuses):
        failed = [f"{d.get('filename')}: {d.get('error') or 'failed'}"
                  for d in body.get("documents", []) if d.get("status") == "failed"]
        return rows, (f"Ingested {len(rows)} file(s){note}: {statuses.count('ready')} ready, "
                      f"{len(failed)} failed" + (f" ({'; '.join(failed)})." if failed else "."))
    waited = f" Still ingesting after {wait_s:g} s." if wait_s else ""
    return rows, (f"Accepted {len(rows)} file(s) for ingestion{note}.{waited} "
                  "Follow them in Documents.")


# --- documents ---------------------------------------------------------------------------


def list_documents(
    base_url: str, auth: Auth, status: str | None, collection: str | None, limit: int = 200
) -> tuple[Rows, str]:
    try:
        page = _client(base_url, auth).list_documents(
            status=status or None, collection=(collection or "").strip() or None, limit=limit
        )
    except ConsoleError as exc:
        return [], error_message(exc)
    rows = render.document_rows(page)
    total = page.get("total", len(rows))
    more = (
        f" (showing the newest {len(rows)})" if isinstance(total, int) and total > len(rows) else ""
    )
    return rows, f"{total} document(s){more}. Click a row to open it."


def document_details(
    base_url: str, auth: Auth, document_id: str | None
) -> tuple[dict[str, Any] | None, Rows, str]:
    doc_id = (document_id or "").strip()
    if not doc_id:
        return None, [], "**Error:** pick a document (click a row) or paste its id."
    try:
        client = _client(base_url, auth)
        doc = client.get_document(doc_id)
        chunks = client.list_chunks(doc_id)
    except ConsoleError as exc:
        return None, [], error_message(exc)
    rows = render.chunk_rows(chunks)
    total = chunks.get("total", len(rows))
    return doc, rows, f"**{doc.get('filename', doc_id)}** — {doc.get('status')}, {total} chunk(s)."


def delete_document(base_url: str, auth: Auth, document_id: str | None) -> str:
    doc_id = (document_id or "").strip()
    if not doc_id:
        return "**Error:** no document selected."
    try:
        _client(base_url, auth).delete_document(doc_id)
    except ConsoleError as exc:
        return error_message(exc)
    return f"Deleted document {doc_id}."


def download_document(
    base_url: str, auth: Auth, document_id: str | None
) -> tuple[str | None, str]:
    """Fetch the original into a fresh temp dir; return its path (for a file component)."""
    doc_id = (document_id or "").strip()
    if not doc_id:
        return None, "**Error:** no document selected."
    try:
        client = _client(base_url, auth)
        filename = str(client.get_document(doc_id).get("filename") or doc_id)
        content = client.download(doc_id)
    except ConsoleError as exc:
        return None, error_message(exc)
    safe = Path(filename).name or doc_id
    target = Path(tempfile.mkdtemp(prefix="cairn-console-")) / safe
    target.write_bytes(content)
    return str(target), f"Fetched {safe} ({len(content)} bytes)."


# --- collections and search --------------------------------------------------------------


def collection_choices(base_url: str, auth: Auth) -> tuple[list[tuple[str, str]], str]:
    """Dropdown choices as (label, value); the first is "all collections" (value "")."""
    choices: list[tuple[str, str]] = [("all collections", ALL)]
    try:
        collections = _client(base_url, auth).list_collections()
    except ConsoleError as exc:
        return choices, error_message(exc)
    choices += [
        (f"{c['name']} ({c.get('chunk_count', 0)} chunks)", str(c["name"])) for c in collections
    ]
    return choices, f"{len(collections)} collection(s)."


def search_capabilities(base_url: str, auth: Auth) -> SearchCapabilities:
    """What the search endpoint accepts; nothing extra if the API cannot say."""
    try:
        return _public_client(base_url, auth).search_capabilities()
    except ConsoleError:
        return SearchCapabilities()


def build_search_payload(
    caps: SearchCapabilities,
    query: str,
    k: float | int | None,
    collection: str | None,
    mode: str | None,
    group_by: str | None,
) -> dict[str, Any]:
    """The request body, with mode/group_by only when the API declares them."""
    payload: dict[str, Any] = {"query": query, "k": int(k or 10)}
    if collection:
        payload["collection"] = collection
    if mode and caps.has_mode and (not caps.modes or mode in caps.modes):
        payload["mode"] = mode
    if group_by and caps.has_group_by and (not caps.group_bys or group_by in caps.group_bys):
        payload["group_by"] = group_by
    if "highlights" in caps.fields:  # the API marks snippets only when asked
        payload["highlights"] = True
    return payload


def run_search(
    base_url: str,
    auth: Auth,
    query: str | None,
    k: float | int | None,
    collection: str | None,
    mode: str | None = None,
    group_by: str | None = None,
) -> tuple[Rows, str, str]:
    """(table rows, highlighted HTML, status message)."""
    text = (query or "").strip()
    if not text:
        return [], "", "**Error:** type a query first."
    caps = search_capabilities(base_url, auth) if (mode or group_by) else SearchCapabilities()
    payload = build_search_payload(caps, text, k, collection, mode, group_by)
    try:
        body = _client(base_url, auth).search(payload)
    except ConsoleError as exc:
        return [], "", error_message(exc)
    results = [r for r in body.get("results", []) if isinstance(r, dict)]
    took = body.get("took_ms")
    used = [f"{key}={payload[key]}" for key in ("mode", "group_by") if key in payload]
    if "mode" not in payload and body.get("mode"):
        used.insert(0, f"mode={body['mode']}")  # the API's default, reported back
    if isinstance(body.get("total_candidates"), int):
        used.append(f"{body['total_candidates']} candidates")
    extras = f" [{', '.join(used)}]" if used else ""
    timing = f" in {took} ms" if took is not None else ""
    return (
        render.search_rows(results),
        render.search_html(results, text),
        f"{len(results)} result(s){timing}{extras}.",
    )


# --- health ------------------------------------------------------------------------------


def health(base_url: str, auth: Auth) -> tuple[Rows, str]:
    try:
        body = _public_client(base_url, auth).health_ready()
    except ConsoleError as exc:
        return [], error_message(exc)
    rows = render.health_rows(body)
    if body.get("status") == "ready":
        return rows, f"Ready: all {len(rows)} checks ok ({base_url})."
    if body.get("status") == "degraded":
        return rows, f"**Degraded:** {body.get('message', 'a check did not answer')}"
    err = body.get("error")
    reason = err.get("message") if isinstance(err, dict) else body.get("status", "not ready")
    return rows, f"**Not ready:** {reason}"
