"""One embedding queue per worker process, shared by the documents it ingests at once.

With the threads pool (`WORKER_POOL=threads`, `WORKER_CONCURRENCY` documents at a time) every
ingest hands its chunk texts to `embed(embedder, texts)` and waits. Runner threads
(`EMBEDDING_BULK_RUNS`, one per core by default) run the model: a runner takes the oldest
request and, when no other runner is idle, every other request waiting for the same
embedder (up to `EMBED_COALESCE_MAX_TEXTS` texts), embeds them in one call (`embed_bulk`:
the embedder sorts by length, fills its batches and, on the local ONNX model, runs them on
one-thread sessions, as many side by side as there are runners) and hands each request its
vectors. Two documents waiting at once thus go to two runners, and neither core waits for
the end of the other's call; while the model runs, the other documents fetch, parse, chunk
and write (onnxruntime releases the GIL), and their texts gather for the next call. One
process holds one copy of the model. With one document at a time (solo, prefork) a request
simply runs alone.

A request the model refuses fails alone: when a combined call raises, each request is
embedded again on its own, so only the document whose text is refused gets the error.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Sequence
from concurrent.futures import Future
from dataclasses import dataclass, field

from app.core.config import get_settings
from app.core.logging import get_logger
from app.providers.embeddings import Embedder

log = get_logger(__name__)


@dataclass
class _Request:
    embedder: Embedder
    texts: Sequence[str]
    future: Future[list[list[float]]] = field(default_factory=Future)


class EmbedBatcher:
    def __init__(self, max_texts: int, runners: int = 1) -> None:
        self.max_texts = max(1, max_texts)
        self._waiting: deque[_Request] = deque()
        self._ready = threading.Condition()
        self._idle = 0  # runners waiting for a request
        self._threads = [
            threading.Thread(target=self._loop, name=f"embed-batcher-{i}", daemon=True)
            for i in range(max(1, runners))
        ]
        for thread in self._threads:
            thread.start()
        self.calls = 0  # model calls made

    def embed(self, embedder: Embedder, texts: Sequence[str]) -> list[list[float]]:
        """The vectors of `texts`, in order (raises what the embedder raised)."""
        if not texts:
            return []
        request = _Request(embedder, texts)
        with self._ready:
            self._waiting.append(request)
            self._ready.notify()
        return request.future.result()

    def _take(self) -> list[_Request]:
        """The oldest waiting request (blocking), then, unless another runner is idle to
        take them, every other one waiting for the same embedder, within the cap. A request
        is never split: a larger one runs alone."""
        with self._ready:
            self._idle += 1
            while not self._waiting:
                self._ready.wait()
            self._idle -= 1
            first = self._waiting.popleft()
            batch, size, rest = [first], len(first.texts), deque[_Request]()
            while self._waiting and not self._idle:
                request = self._waiting.popleft()
                fits = size + len(request.texts) <= self.max_texts
                if request.embedder is first.embedder and fits:
                    batch.append(request)
                    size += len(request.texts)
                else:
                    rest.append(request)
            self._waiting.extendleft(reversed(rest))
        return batch

    def _loop(self) -> None:
        while True:
            batch = self._take()
            try:
                self._run(batch)
            except BaseException as exc:  # never leave a caller waiting
                for request in batch:
                    if not request.future.done():
                        request.future.set_exception(exc)

    def _run(self, batch: list[_Request]) -> None:
        texts = [t for request in batch for t in request.texts]
        try:
            with self._ready:
                self.calls += 1
            vectors = batch[0].embedder.embed_bulk(texts)
        except Exception as exc:
            if len(batch) == 1:
                batch[0].future.set_exception(exc)
                return
            log.info("embed_batch_split", requests=len(batch), error=type(exc).__name__)
            for request in batch:  # find the request the model refuses
                self._run([request])
            return
        start = 0
        for request in batch:
            request.future.set_result(vectors[start : start + len(request.texts)])
            start += len(request.texts)


_lock = threading.Lock()
_batcher: EmbedBatcher | None = None


def embed(embedder: Embedder, texts: Sequence[str]) -> list[list[float]]:
    """Embed `texts` with `embedder` through the process's batcher (made on first use)."""
    global _batcher
    with _lock:
        if _batcher is None:
            settings = get_settings()
            _batcher = EmbedBatcher(settings.embed_coalesce_max_texts, settings.bulk_runs)
    return _batcher.embed(embedder, texts)
