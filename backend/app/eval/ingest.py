"""Upload a BEIR corpus through the documents API and wait until the worker has ingested it.

Each document becomes a text file "<_id>.txt" holding title + blank line + text. The API
deduplicates identical bytes within a collection (it answers with the existing document), so
several BEIR ids can map to one Cairn document; `IngestResult.beir_ids` keeps all of them.

The documents API takes one metadata object per request, so batched uploads carry the dataset
name only; the BEIR id travels in the filename and in the document-id map.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from app.eval.client import ApiError, CairnClient, UploadFile
from app.eval.dataset import CorpusDoc

ProgressFactory = Callable[..., Any]  # tqdm-compatible: factory(total=, desc=, unit=)


@dataclass
class IngestResult:
    collection: str
    document_of: dict[str, str]  # BEIR id -> Cairn document id
    created: list[str]  # document ids this run created (not duplicates of earlier uploads)
    ready: int = 0
    failed: int = 0
    failures: list[dict[str, str]] = field(default_factory=list)
    identical: int = 0  # corpus entries whose bytes equal an earlier entry's
    refused: dict[str, str] = field(default_factory=dict)  # BEIR id -> why the API refused it
    upload_s: float = 0.0
    wall_s: float = 0.0

    @property
    def unique_documents(self) -> int:
        return len(set(self.document_of.values()))

    def beir_ids(self) -> dict[str, list[str]]:
        """Cairn document id -> the BEIR ids it stands for, in corpus order."""
        out: dict[str, list[str]] = {}
        for beir_id, doc_id in self.document_of.items():
            out.setdefault(doc_id, []).append(beir_id)
        return out


def _batches(docs: Sequence[CorpusDoc], size: int) -> Iterator[list[CorpusDoc]]:
    for start in range(0, len(docs), size):
        yield list(docs[start : start + size])


# A file the API refuses (type not accepted, too large, empty): the whole request is refused.
FILE_REFUSALS = {413, 415, 422}


def _post(
    client: CairnClient, batch: list[CorpusDoc], collection: str, metadata: dict[str, Any]
) -> list[dict[str, Any]]:
    files = [UploadFile(f"{d.id}.txt", d.content().encode("utf-8")) for d in batch]
    for attempt in range(3):
        try:
            answers = client.upload(files, collection, metadata)
            break
        except ApiError as exc:
            if (exc.status is not None and exc.status < 500) or attempt == 2:
                raise
            time.sleep(1 + attempt)
    if len(answers) != len(batch):
        raise ApiError(f"upload answered {len(answers)} documents for {len(batch)} files")
    return answers


def _upload_batch(
    client: CairnClient, batch: list[CorpusDoc], collection: str, metadata: dict[str, Any]
) -> tuple[list[tuple[str, dict[str, Any]]], dict[str, str]]:
    """(BEIR id, upload answer) per accepted file, and {BEIR id: reason} per refused one.

    Uploads are all-or-nothing per request, so a refused batch is retried file by file: one
    document the API will not take must not keep the rest of its batch out.
    """
    try:
        answers = _post(client, batch, collection, metadata)
        return [(d.id, a) for d, a in zip(batch, answers, strict=True)], {}
    except ApiError as exc:
        if exc.status not in FILE_REFUSALS:
            raise
        if len(batch) == 1:
            return [], {batch[0].id: str(exc)}
    accepted: list[tuple[str, dict[str, Any]]] = []
    refused: dict[str, str] = {}
    for doc in batch:
        part, why = _upload_batch(client, [doc], collection, metadata)
        accepted.extend(part)
        refused.update(why)
    return accepted, refused


def group_identical(corpus: Sequence[CorpusDoc]) -> dict[str, list[str]]:
    """First BEIR id of each distinct content -> every BEIR id with those exact bytes.

    The API would deduplicate these anyway; grouping here avoids two parallel requests
    racing to create the same document, and keeps the mapping explicit.
    """
    first_of: dict[str, str] = {}
    groups: dict[str, list[str]] = {}
    for doc in corpus:
        rep = first_of.setdefault(doc.content(), doc.id)
        groups.setdefault(rep, []).append(doc.id)
    return groups


def upload_corpus(
    client: CairnClient,
    corpus: Sequence[CorpusDoc],
    collection: str,
    *,
    dataset: str,
    batch_size: int,
    concurrency: int,
    progress: ProgressFactory,
) -> IngestResult:
    metadata = {"eval_dataset": dataset}
    result = IngestResult(collection=collection, document_of={}, created=[])
    groups = group_identical(corpus)
    unique = [d for d in corpus if d.id in groups]
    # The first batch alone creates the collection, so parallel batches cannot race to.
    batches = list(_batches(unique, batch_size))
    bar = progress(total=len(unique), desc="upload", unit="doc")
    try:
        answers, refused = _upload_batch(client, batches[0], collection, metadata)
        bar.update(len(batches[0]))
        with ThreadPoolExecutor(max_workers=max(1, concurrency)) as pool:
            futures = [
                pool.submit(_upload_batch, client, b, collection, metadata) for b in batches[1:]
            ]
            for batch, future in zip(batches[1:], futures, strict=True):
                part, why = future.result()
                answers.extend(part)
                refused.update(why)
                bar.update(len(batch))
    finally:
        bar.close()
    for rep_id, answer in answers:
        doc_id = str(answer["id"])
        for beir_id in groups[rep_id]:
            result.document_of[beir_id] = doc_id
        if not answer.get("duplicate"):
            result.created.append(doc_id)
    for rep_id, reason in refused.items():
        for beir_id in groups[rep_id]:
            result.refused[beir_id] = reason
    if not answers:
        raise ApiError(f"the API refused every document, e.g.: {next(iter(refused.values()))}")
    result.identical = len(corpus) - len(unique)
    return result


def wait_for_ingest(
    client: CairnClient,
    result: IngestResult,
    *,
    progress: ProgressFactory,
    poll_s: float = 1.0,
    stall_timeout_s: float = 900.0,
) -> None:
    """Poll the collection's ready/failed totals until every uploaded document is settled."""
    expected = result.unique_documents
    bar = progress(total=expected, desc="ingest", unit="doc")
    last_change = time.monotonic()
    settled = -1
    failed, last_ready = 0, -1
    try:
        while True:
            ready = client.count_documents(result.collection, "ready")
            # The failed count only when no document became ready since the last poll:
            # one request a poll while the ingest moves (the requests take CPU from it).
            if ready < expected and ready == last_ready:
                failed = client.count_documents(result.collection, "failed")
            last_ready = ready
            now_settled = min(ready + failed, expected)
            if now_settled != settled:
                bar.update(now_settled - max(settled, 0))
                settled = now_settled
                last_change = time.monotonic()
            if now_settled >= expected:
                result.ready, result.failed = ready, failed
                break
            if time.monotonic() - last_change > stall_timeout_s:
                raise ApiError(
                    f"ingest stalled: {ready} ready, {failed} failed of {expected} after no "
                    f"progress for {stall_timeout_s:.0f}s (is a worker running?)"
                )
            time.sleep(poll_s)
    finally:
        bar.close()
    if result.failed:
        for doc in client.list_documents(result.collection, "failed", limit=20):
            result.failures.append({"filename": doc["filename"], "error": str(doc.get("error"))})


def ingest_corpus(
    client: CairnClient,
    corpus: Sequence[CorpusDoc],
    collection: str,
    *,
    dataset: str,
    batch_size: int,
    concurrency: int,
    progress: ProgressFactory,
    poll_s: float = 1.0,
) -> IngestResult:
    start = time.perf_counter()
    result = upload_corpus(
        client,
        corpus,
        collection,
        dataset=dataset,
        batch_size=batch_size,
        concurrency=concurrency,
        progress=progress,
    )
    result.upload_s = time.perf_counter() - start
    wait_for_ingest(client, result, progress=progress, poll_s=poll_s)
    result.wall_s = time.perf_counter() - start
    return result


def delete_created(client: CairnClient, result: IngestResult, concurrency: int) -> int:
    """Remove the documents this run created (never ones that were already there)."""
    with ThreadPoolExecutor(max_workers=max(1, concurrency)) as pool:
        outcomes = list(pool.map(_try_delete, [client] * len(result.created), result.created))
    return sum(outcomes)


def _try_delete(client: CairnClient, document_id: str) -> bool:
    try:
        client.delete_document(document_id)
    except ApiError:
        return False
    return True
