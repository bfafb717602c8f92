"""`cairn eval --api-url URL --collection C --eval-set NAME`: run a golden set stored on the
server (POST /api/v1/collections/{id}/eval-sets/{set}/run) and print its metrics per mode."""

from __future__ import annotations

from typing import Any

from app.eval.client import ApiError, CairnClient
from app.eval.metrics import METRICS
from app.eval.report import LABELS


class StoredSetError(Exception):
    """The collection or the eval set is not there (exit code 2)."""


def run_stored(
    api_url: str, api_key: str | None, collection: str, eval_set: str, modes: list[str]
) -> dict[str, Any]:
    client = CairnClient(api_url, api_key=api_key, timeout_s=3600)
    try:
        visible = [c for c in client.collections() if c.get("name") == collection]
        if not visible:
            raise StoredSetError(f"no collection named {collection!r} that you may read")
        # your own collection first, as the search API resolves names
        visible.sort(key=lambda c: c.get("permission") != "owner")
        cid = visible[0]["id"]
        sets = client.get_json(f"/api/v1/collections/{cid}/eval-sets")
        found = next((s for s in sets if s.get("name") == eval_set), None)
        if found is None:
            names = ", ".join(s["name"] for s in sets) or "none"
            raise StoredSetError(f"collection {collection!r} has no eval set {eval_set!r} "
                                 f"(it has: {names})")  # fmt: skip
        response = client._request(
            "POST", f"/api/v1/collections/{cid}/eval-sets/{found['id']}/run",
            json={"modes": modes},
        )  # fmt: skip
        result: dict[str, Any] = response.json()
        return result
    finally:
        client.close()


def render_stored(report: dict[str, Any]) -> str:
    header = f"{'mode':<8} " + " ".join(f"{LABELS[m]:>10}" for m in METRICS) + \
        f" {'p50 ms':>8} {'queries':>8}"  # fmt: skip
    lines = [f"eval set {report['name']!r}: {report['k']} results per query", header]
    for mode, r in report["modes"].items():
        p50 = r["latency"]["p50_ms"]
        lines.append(f"{mode:<8} " + " ".join(f"{r[m]:>10.4f}" for m in METRICS)
                     + f" {('-' if p50 is None else f'{p50:.1f}'):>8} {r['queries']:>8}")
    return "\n".join(lines)


__all__ = ["ApiError", "StoredSetError", "render_stored", "run_stored"]
