"""Prometheus metrics: `GET /metrics` on the API, the worker's ingest and task metrics.

- `registry.py`: every Cairn metric (ingest stage histograms, embedder throughput counters,
  Celery task outcomes) and the registry a scrape reads (multiprocess-aware);
- `collectors.py`: values read at scrape time (documents by status, queue depths);
- `service.py`: who may scrape; `router.py`: the endpoint; `worker.py`: the Celery signals
  and the worker's own metrics port.
"""
