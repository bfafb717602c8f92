"""The request id follows the work into Celery: the sender puts the current structlog
context's `request_id` into the task's message headers (before_task_publish), and the worker
binds it (with the task's id and name) into its own structlog context for the task's run
(task_prerun), clearing it after (task_postrun). So one upload's API lines and its worker
lines carry the same request_id."""

from __future__ import annotations

from typing import Any

import structlog
from celery.signals import before_task_publish, task_postrun, task_prerun

HEADER = "cairn_request_id"


@before_task_publish.connect
def _add_request_id(headers: dict[str, Any] | None = None, **_: Any) -> None:
    request_id = structlog.contextvars.get_contextvars().get("request_id")
    if headers is not None and request_id:
        headers[HEADER] = request_id


def request_id_of(task: Any) -> str | None:
    request = getattr(task, "request", None)
    found = getattr(request, HEADER, None)
    if found is None:
        found = (getattr(request, "headers", None) or {}).get(HEADER)
    return str(found) if found else None


@task_prerun.connect
def _bind_request_id(task_id: str | None = None, task: Any = None, **_: Any) -> None:
    structlog.contextvars.clear_contextvars()
    context: dict[str, Any] = {"task_id": task_id, "task": getattr(task, "name", None)}
    request_id = request_id_of(task)
    if request_id:
        context["request_id"] = request_id
    structlog.contextvars.bind_contextvars(**context)


@task_postrun.connect
def _clear_request_id(**_: Any) -> None:
    structlog.contextvars.clear_contextvars()
