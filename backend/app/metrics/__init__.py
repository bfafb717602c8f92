"""Prometheus metrics: `GET /metrics` on the API, the worker's ingest and task metrics.

- `registry.py`: every Cairn metric (ingest stage histograms, embedder throughput counters,
  Celery task outcomes) and the registry a scrape reads (multiprocess-aware);
- `collectors.py`: values read at scrape time (documents by status, queue depths);
- `service.py`: who may scrape; `router.py`: the endpoint; `worker.py`: the Celery signals
  and the worker's own metrics port.
"""

from __future__ import annotations

import os

from app.core.config import get_settings

# Before prometheus_client is first imported (it reads the variable at import): the setting
# from .env reaches the process environment, so every process of one host agrees.
_multiproc_dir = get_settings().prometheus_multiproc_dir
if _multiproc_dir is not None:
    _multiproc_dir.mkdir(parents=True, exist_ok=True)
    os.environ.setdefault("PROMETHEUS_MULTIPROC_DIR", str(_multiproc_dir))
