"""A small typed client for Cairn's REST API, used by the Gradio console.

Every function returns decoded JSON (or bytes) or raises `ConsoleError` carrying a message a
person can read: the API's own `{"error": {"code", "message", "details"}}` when it sent one,
otherwise a description of what went wrong on the way (unreachable, timeout, not JSON).
"""

from __future__ import annotations

import json
import os
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from console_auth import (
    SIGN_IN_FIRST,
    Auth,
    Credentials,
    env_api_key,
    env_server_key,
    server_key_allowed,
)

__all__ = [
    "SIGN_IN_FIRST", "ApiClient", "Auth", "ConsoleError", "Credentials", "SearchCapabilities",
    "env_api_key", "env_base_url", "env_server_key", "server_key_allowed",
]

DEFAULT_BASE_URL = "http://127.0.0.1:8000"
DEFAULT_TIMEOUT_S = 30.0
UPLOAD_TIMEOUT_S = 300.0
REFRESH_MARGIN_S = 15.0
# Rotation spends a refresh token: two events of one browser session must not both spend it.
_REFRESH_LOCK = threading.Lock()
AUTH_MODE_TTL_S = 10.0
_auth_mode: dict[str, tuple[float, bool]] = {}  # base URL -> (checked at, auth disabled)


class ConsoleError(Exception):
    """A failed API call, described for a person."""

    def __init__(self, message: str, *, status: int | None = None, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.code = code

    def __str__(self) -> str:
        return self.message


@dataclass(frozen=True)
class SearchCapabilities:
    """What POST /api/v1/search accepts beyond query/k/collection (read from /openapi.json)."""

    modes: tuple[str, ...] = ()
    group_bys: tuple[str, ...] = ()
    fields: frozenset[str] = field(default_factory=frozenset)

    @property
    def has_mode(self) -> bool:
        return "mode" in self.fields

    @property
    def has_group_by(self) -> bool:
        return "group_by" in self.fields


def env_base_url() -> str:
    return os.environ.get("API_BASE_URL", DEFAULT_BASE_URL).rstrip("/")


def _format_details(details: Any) -> str:
    """Validation details ([{loc, msg}]) as 'field: message' lines; other details as JSON."""
    if isinstance(details, list):
        parts = []
        for item in details:
            if isinstance(item, dict) and "msg" in item:
                loc = ".".join(str(p) for p in item.get("loc", []) if p != "body")
                parts.append(f"{loc}: {item['msg']}" if loc else str(item["msg"]))
            else:
                parts.append(json.dumps(item, default=str))
        return "; ".join(parts)
    if isinstance(details, dict) and details:
        return json.dumps(details, default=str)
    return ""


def error_from_response(resp: httpx.Response) -> ConsoleError:
    """The API's error envelope as a ConsoleError; a readable fallback for anything else."""
    code: str | None = None
    message = ""
    try:
        body = resp.json()
    except ValueError:
        body = None
    err = body.get("error") if isinstance(body, dict) else None
    if isinstance(err, dict):
        code = str(err.get("code") or "") or None
        message = str(err.get("message") or "")
        extra = _format_details(err.get("details"))
        if extra:
            message = f"{message} ({extra})"
    elif isinstance(body, dict) and "detail" in body:
        message = str(body["detail"])
    if not message:
        text = resp.text.strip()[:300]
        message = text or resp.reason_phrase or "no response body"
    label = f"API error {resp.status_code}" + (f" [{code}]" if code else "")
    if resp.status_code == 401:
        message += " — sign in again at the top of the console."
    return ConsoleError(f"{label}: {message}", status=resp.status_code, code=code)


class ApiClient:
    """One base URL and the caller's credentials; a fresh HTTP connection per call (the
    console is interactive and low-volume, and a per-call client never outlives a change of
    who is signed in)."""

    def __init__(
        self,
        base_url: str | None = None,
        auth: Auth = None,
        timeout: float = DEFAULT_TIMEOUT_S,
    ) -> None:
        self.base_url = (base_url or env_base_url()).rstrip("/")
        # A plain string is a pasted API key.
        self.credentials = auth if isinstance(auth, Credentials) else Credentials(
            api_key=(auth or "").strip()
        )
        self.timeout = timeout

    # --- who is asking ---------------------------------------------------------------------

    def login(self, email: str, password: str) -> Credentials:
        """Email + password through POST /api/v1/auth/login; the tokens go into the
        credentials (replacing a pasted key)."""
        body = self._json("POST", "/api/v1/auth/login", authenticated=False,
                          json={"email": email.strip(), "password": password})
        creds = self.credentials
        creds.clear()
        creds.email = email.strip().lower()
        creds.take_tokens(body)
        return creds

    def _refresh(self, spent: str) -> None:
        """Rotate the refresh token (once, even if two events of one session race)."""
        creds = self.credentials
        with _REFRESH_LOCK:
            if creds.refresh_token != spent:
                return  # another event of this session refreshed already
            try:
                body = self._json("POST", "/api/v1/auth/refresh", authenticated=False,
                                  json={"refresh_token": spent})
            except ConsoleError as exc:
                if exc.status == 401:
                    creds.clear()
                    raise ConsoleError(
                        "Your sign-in has expired. " + SIGN_IN_FIRST, status=401, code=exc.code
                    ) from exc
                raise
            creds.take_tokens(body)

    def has_credentials(self) -> bool:
        """Someone to act for: a sign-in, a pasted key, the (allowed) server key, or an API
        in single-user mode (AUTH_ENABLED=false), where no credential is needed at all."""
        return self.credentials.signed_in or bool(env_api_key()) or self.api_auth_disabled()

    def api_auth_disabled(self) -> bool:
        """GET /api/health says {"auth": "disabled"} (cached for AUTH_MODE_TTL_S)."""
        now = time.monotonic()
        cached = _auth_mode.get(self.base_url)
        if cached is not None and now - cached[0] < AUTH_MODE_TTL_S:
            return cached[1]
        try:
            body = self._send("GET", "/api/health", None, False).json()
            disabled = isinstance(body, dict) and body.get("auth") == "disabled"
        except (ConsoleError, ValueError):
            return False
        _auth_mode[self.base_url] = (now, disabled)
        return disabled

    def _bearer(self) -> str:
        creds = self.credentials
        if creds.api_key:
            return creds.api_key
        if creds.refresh_token:
            if time.time() > creds.access_expires_at - REFRESH_MARGIN_S:
                self._refresh(creds.refresh_token)
            return creds.access_token
        server_key = env_api_key()
        if server_key:
            return server_key
        if self.api_auth_disabled():
            return ""
        raise ConsoleError(SIGN_IN_FIRST, status=401, code="not_signed_in")

    def _headers(self, authenticated: bool = True) -> dict[str, str]:
        headers = {"Accept": "application/json"}
        bearer = self._bearer() if authenticated else ""
        if bearer:
            headers["Authorization"] = f"Bearer {bearer}"
        return headers

    def _request(
        self,
        method: str,
        path: str,
        *,
        timeout: float | None = None,
        ok: Sequence[int] = (),
        authenticated: bool = True,
        **kwargs: Any,
    ) -> httpx.Response:
        resp = self._send(method, path, timeout, authenticated, **kwargs)
        creds = self.credentials
        # (Not for uploads: their file handles were read by the first attempt.)
        if (resp.status_code == 401 and authenticated and not creds.api_key
                and creds.refresh_token and "files" not in kwargs
                and _error_code(resp) == "token_expired"):
            self._refresh(creds.refresh_token)  # the clock said fresh, the API said expired
            resp = self._send(method, path, timeout, authenticated, **kwargs)
        if resp.is_success or resp.status_code in ok:
            return resp
        raise error_from_response(resp)

    def _send(
        self, method: str, path: str, timeout: float | None, authenticated: bool, **kwargs: Any
    ) -> httpx.Response:
        url = f"{self.base_url}{path}"
        headers = self._headers(authenticated)
        try:
            with httpx.Client(timeout=timeout or self.timeout, headers=headers) as http:
                return http.request(method, url, **kwargs)
        except httpx.TimeoutException as exc:
            raise ConsoleError(
                f"The API at {self.base_url} did not answer in time ({exc})."
            ) from exc
        except httpx.TransportError as exc:
            raise ConsoleError(
                f"Cannot reach the API at {self.base_url}: {exc or type(exc).__name__}. "
                "Is it running? (API_BASE_URL sets the address.)"
            ) from exc

    def _json(self, method: str, path: str, **kwargs: Any) -> Any:
        resp = self._request(method, path, **kwargs)
        try:
            return resp.json()
        except ValueError as exc:
            raise ConsoleError(
                f"The API answered {method} {path} with something that is not JSON "
                f"(HTTP {resp.status_code}: {resp.text[:200]!r})."
            ) from exc

    # --- documents -------------------------------------------------------------------------

    def upload(
        self,
        paths: Sequence[str | Path],
        *,
        collection: str | None = None,
        metadata: str | None = None,
        reingest: bool = False,
        wait_s: float = 0,
    ) -> dict[str, Any]:
        """Upload files; with `wait_s`, the API answers once all are ready or failed (or
        after that many seconds, still ingesting)."""
        data: dict[str, str] = {}
        if collection:
            data["collection"] = collection
        if metadata and metadata.strip():
            data["metadata"] = metadata
        handles = [Path(p).open("rb") for p in paths]  # noqa: SIM115 - closed below
        try:
            files = [("files", (Path(p).name, h)) for p, h in zip(paths, handles, strict=True)]
            result: dict[str, Any] = self._json(
                "POST",
                "/api/v1/documents",
                params={**({"reingest": "true"} if reingest else {}),
                        **({"wait": wait_s} if wait_s else {})},
                files=files,
                data=data,
                timeout=UPLOAD_TIMEOUT_S + wait_s,
            )
        finally:
            for h in handles:
                h.close()
        return result

    def list_documents(
        self,
        *,
        status: str | None = None,
        collection: str | None = None,
        limit: int = 100,
        offset: int = 0,
    ) -> dict[str, Any]:
        params: dict[str, str | int] = {"limit": limit, "offset": offset}
        if status:
            params["status"] = status
        if collection:
            params["collection"] = collection
        page: dict[str, Any] = self._json("GET", "/api/v1/documents", params=params)
        return page

    def get_document(self, document_id: str) -> dict[str, Any]:
        doc: dict[str, Any] = self._json("GET", f"/api/v1/documents/{document_id}")
        return doc

    def list_chunks(self, document_id: str, *, limit: int = 200) -> dict[str, Any]:
        page: dict[str, Any] = self._json(
            "GET", f"/api/v1/documents/{document_id}/chunks", params={"limit": limit}
        )
        return page

    def delete_document(self, document_id: str) -> None:
        self._request("DELETE", f"/api/v1/documents/{document_id}")

    def download(self, document_id: str) -> bytes:
        return self._request(
            "GET", f"/api/v1/documents/{document_id}/download", timeout=UPLOAD_TIMEOUT_S
        ).content

    def get_task(self, task_id: str) -> dict[str, Any]:
        task: dict[str, Any] = self._json("GET", f"/api/v1/tasks/{task_id}")
        return task

    # --- collections and search ------------------------------------------------------------

    def list_collections(self) -> list[dict[str, Any]]:
        rows: list[dict[str, Any]] = self._json("GET", "/api/v1/collections")
        return rows

    def search(self, payload: dict[str, Any]) -> dict[str, Any]:
        result: dict[str, Any] = self._json("POST", "/api/v1/search", json=payload)
        return result

    def search_capabilities(self) -> SearchCapabilities:
        """Read SearchRequest from the OpenAPI document: which fields and enum values exist."""
        spec = self._json("GET", "/openapi.json", authenticated=False)
        schemas = spec.get("components", {}).get("schemas", {}) if isinstance(spec, dict) else {}
        request = schemas.get("SearchRequest", {})
        props: dict[str, Any] = request.get("properties", {}) if isinstance(request, dict) else {}
        return SearchCapabilities(
            modes=_enum_values(props.get("mode"), schemas),
            group_bys=_enum_values(props.get("group_by"), schemas),
            fields=frozenset(props),
        )

    # --- health ----------------------------------------------------------------------------

    def health_ready(self) -> dict[str, Any]:
        """The readiness body; a 503 still carries the checks, so it is returned, not raised."""
        resp = self._request("GET", "/api/health/ready", ok=(503,), authenticated=False)
        try:
            body: dict[str, Any] = resp.json()
        except ValueError as exc:
            raise ConsoleError(f"Readiness answered HTTP {resp.status_code} without JSON.") from exc
        return body


def _error_code(resp: httpx.Response) -> str | None:
    try:
        body = resp.json()
    except ValueError:
        return None
    err = body.get("error") if isinstance(body, dict) else None
    return str(err.get("code")) if isinstance(err, dict) and err.get("code") else None


def _enum_values(prop: Any, schemas: dict[str, Any]) -> tuple[str, ...]:
    """Enum values of an OpenAPI property, following $ref, allOf and anyOf one level deep."""
    if not isinstance(prop, dict):
        return ()
    if "enum" in prop:
        return tuple(str(v) for v in prop["enum"])
    ref = prop.get("$ref")
    if isinstance(ref, str):
        return _enum_values(schemas.get(ref.rsplit("/", 1)[-1]), schemas)
    for key in ("allOf", "anyOf", "oneOf"):
        for sub in prop.get(key, []) or []:
            found = _enum_values(sub, schemas)
            if found:
                return found
    return ()
