"""The harness's only way into Cairn: its public HTTP API (httpx, thread-safe client)."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Any

import httpx


class ApiError(Exception):
    """The API answered with an error, or did not answer."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class UploadFile:
    filename: str
    content: bytes


@dataclass(frozen=True)
class SearchCapabilities:
    """What this API's SearchRequest accepts (read from its OpenAPI schema)."""

    fields: frozenset[str]
    modes: tuple[str, ...] | None  # the `mode` enum when the schema declares one

    @property
    def mode(self) -> bool:
        return "mode" in self.fields

    @property
    def group_by(self) -> bool:
        return "group_by" in self.fields


def _error_text(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return response.text[:300]
    if isinstance(body, dict) and isinstance(body.get("error"), dict):
        err = body["error"]
        details = err.get("details")
        suffix = f" {json.dumps(details)[:300]}" if details else ""
        return f"{err.get('code')}: {err.get('message')}{suffix}"
    return json.dumps(body)[:300]


def _retry_after(response: httpx.Response) -> float:
    try:
        return min(60.0, max(0.5, float(response.headers.get("Retry-After", "1"))))
    except ValueError:
        return 1.0


class CairnClient:
    def __init__(
        self,
        base_url: str,
        *,
        api_key: str | None = None,
        timeout_s: float = 120.0,
        pool: int = 16,
        max_rate_limit_wait_s: float = 600.0,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self.http = httpx.Client(
            base_url=self.base_url,
            timeout=timeout_s,
            headers=headers,
            limits=httpx.Limits(max_connections=pool, max_keepalive_connections=pool),
        )
        self.max_rate_limit_wait_s = max_rate_limit_wait_s

    def close(self) -> None:
        self.http.close()

    def _request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        """One call; a 429 is waited out (Retry-After) and retried, other errors raise."""
        return self._timed_request(method, path, **kwargs)[0]

    def _timed_request(
        self, method: str, path: str, **kwargs: Any
    ) -> tuple[httpx.Response, float]:
        """As `_request`, with the latency in ms of the answered attempt (time spent
        waiting out a rate limit is not counted)."""
        waited = 0.0
        while True:
            start = time.perf_counter()
            try:
                response = self.http.request(method, path, **kwargs)
            except httpx.HTTPError as exc:
                raise ApiError(f"{method} {self.base_url}{path}: {exc}") from exc
            elapsed_ms = (time.perf_counter() - start) * 1000
            if response.status_code != 429 or waited >= self.max_rate_limit_wait_s:
                break
            pause = _retry_after(response)
            time.sleep(pause)
            waited += pause
        if response.status_code >= 400:
            raise ApiError(
                f"{method} {path} -> {response.status_code} {_error_text(response)}",
                status=response.status_code,
            )
        return response, elapsed_ms

    def wait_ready(self, timeout_s: float = 60.0, unreachable_s: float = 10.0) -> None:
        """Wait for /api/health/ready; give up sooner when nothing listens at all."""
        start = time.monotonic()
        last = "no answer"
        refused_since: float | None = None
        while time.monotonic() - start < timeout_s:
            try:
                response = self.http.get("/api/health/ready", timeout=5)
                refused_since = None
                if response.status_code == 200:
                    return
                last = f"{response.status_code} {response.text[:200]}"
            except httpx.HTTPError as exc:
                last = str(exc) or type(exc).__name__
                refused_since = refused_since or time.monotonic()
                if time.monotonic() - refused_since > unreachable_s:
                    break
            time.sleep(0.3)
        waited = time.monotonic() - start
        raise ApiError(f"{self.base_url} is not ready after {waited:.0f}s: {last}")

    def openapi(self) -> dict[str, Any]:
        result: dict[str, Any] = self._request("GET", "/openapi.json").json()
        return result

    def search_capabilities(self) -> SearchCapabilities:
        spec = self.openapi()
        schemas = spec.get("components", {}).get("schemas", {})
        request = schemas.get("SearchRequest", {})
        props: dict[str, Any] = request.get("properties", {})
        modes: tuple[str, ...] | None = None
        mode = props.get("mode", {})
        ref = mode.get("$ref") or next(
            (a.get("$ref") for a in mode.get("anyOf", []) + mode.get("allOf", []) if "$ref" in a),
            None,
        )
        enum = schemas.get(ref.rsplit("/", 1)[-1], {}).get("enum") if ref else mode.get("enum")
        if enum:
            modes = tuple(str(m) for m in enum)
        return SearchCapabilities(frozenset(props), modes)

    def upload(
        self, files: list[UploadFile], collection: str, metadata: dict[str, Any]
    ) -> list[dict[str, Any]]:
        parts = [("files", (f.filename, f.content, "text/plain")) for f in files]
        response = self._request(
            "POST",
            "/api/v1/documents",
            files=parts,
            data={"collection": collection, "metadata": json.dumps(metadata)},
        )
        documents: list[dict[str, Any]] = response.json()["documents"]
        return documents

    def count_documents(self, collection: str, status: str | None = None) -> int:
        params: dict[str, Any] = {"collection": collection, "limit": 1}
        if status:
            params["status"] = status
        return int(self._request("GET", "/api/v1/documents", params=params).json()["total"])

    def list_documents(
        self, collection: str, status: str | None = None, limit: int = 100
    ) -> list[dict[str, Any]]:
        params: dict[str, Any] = {"collection": collection, "limit": limit}
        if status:
            params["status"] = status
        items: list[dict[str, Any]] = self._request(
            "GET", "/api/v1/documents", params=params
        ).json()["items"]
        return items

    def collections(self) -> list[dict[str, Any]]:
        result: list[dict[str, Any]] = self._request("GET", "/api/v1/collections").json()
        return result

    def delete_document(self, document_id: str) -> None:
        self._request("DELETE", f"/api/v1/documents/{document_id}")

    def search(self, body: dict[str, Any]) -> tuple[dict[str, Any], float]:
        """The response body and the client-measured latency in milliseconds (of the
        answered attempt: time spent waiting out a rate limit is not counted)."""
        response, elapsed_ms = self._timed_request("POST", "/api/v1/search", json=body)
        result: dict[str, Any] = response.json()
        return result, elapsed_ms

    def get_json(self, path: str) -> Any:
        return self._request("GET", path).json()
