"""Local embedder: ONNX graph on onnxruntime + Hugging Face `tokenizers`, mean pooling."""

from __future__ import annotations

import math
import threading
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from pathlib import Path

import numpy as np
import onnxruntime as ort
from tokenizers import Tokenizer

from app.providers.embeddings.base import Embedder, EmbeddingError, TokenWords
from app.providers.embeddings.local_model import DIMS, export_onnx, package_model_dir

# One run's model work in units of one token's, fitted on all-MiniLM-L6-v2 on one thread
# (bench/embed_cost.py: within 9% of 63 measured runs of 1-16 texts x 16-256 tokens): a
# fixed cost per run, then each padded token, dearer as the batch widens (attention) and as
# it grows (cache). Padding is work like any token, so a short text beside long ones costs
# the long ones' price, while a run of its own costs only RUN_TOKENS more.
RUN_TOKENS = 6.0
WIDTH_SCALE = 1500.0
SIZE_SCALE = 24000.0

# Pre-tokenizers that split on whitespace and punctuation and never join words, so a word's
# tokens depend on the word alone (token_words); byte-level or sentencepiece ones carry the
# space before a word into its tokens, and are not listed.
WORD_PRE_TOKENIZERS = frozenset({"BertPreTokenizer", "Whitespace"})


def run_cost(texts: int, width: int) -> float:
    """The model's work for one run of `texts` texts padded to `width` tokens."""
    padded = texts * width
    return RUN_TOKENS + padded * (1 + width / WIDTH_SCALE + padded / SIZE_SCALE)


class OnnxEmbedder(Embedder):
    def __init__(
        self, model: str, models_dir: Path, *, batch_size: int, max_tokens: int,
        batch_tokens: int = 0, bulk_runs: int = 1,
    ) -> None:
        self.model_name = model
        self.dim = DIMS[model]
        self.batch_size = batch_size
        self.batch_tokens = batch_tokens
        self.max_tokens = max_tokens
        self.window_tokens = max(1, max_tokens - 2)  # [CLS] and [SEP]
        model_dir = package_model_dir(model)
        self.tokenizer = Tokenizer.from_file(str(model_dir / "tokenizer.json"))
        self.tokenizer.no_padding()
        self.tokenizer.no_truncation()
        self._batch_tok = Tokenizer.from_file(str(model_dir / "tokenizer.json"))
        self._batch_tok.enable_truncation(max_tokens)
        # no padding here: each batch is padded to its own longest text in _run (padding by
        # the tokenizer would pad every text to the longest of the whole call)
        self._batch_tok.no_padding()
        self._onnx_path = export_onnx(model, models_dir)
        self.bulk_runs = max(1, bulk_runs)  # Settings.bulk_runs resolves EMBEDDING_BULK_RUNS
        self._sessions: dict[int, ort.InferenceSession] = {}
        self._sessions_lock = threading.Lock()
        self._lock = threading.Lock()
        self._pool: ThreadPoolExecutor | None = None

    @property
    def session(self) -> ort.InferenceSession:
        """The session for queries and embed_documents: each call's operators spread over
        the physical cores, one call at a time."""
        return self._session(0)

    def warm_up(self) -> None:
        _ = self.session

    def _session(self, threads: int) -> ort.InferenceSession:
        """The session whose calls use `threads` onnxruntime threads (0: the physical
        cores), made on first use: an API process never makes the bulk one, a worker that
        only ingests never makes the other."""
        with self._sessions_lock:
            if threads not in self._sessions:
                options = ort.SessionOptions()
                options.intra_op_num_threads = threads
                options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
                # No busy-waiting between runs: a spinning thread steals the core Postgres
                # needs for the search's SQL right after the query is embedded (measured on
                # 2 shared cores: a 1,000-character query embedded in 135 ms instead of 237).
                options.add_session_config_entry("session.intra_op.allow_spinning", "0")
                self._sessions[threads] = ort.InferenceSession(
                    str(self._onnx_path), options, providers=["CPUExecutionProvider"]
                )
            return self._sessions[threads]

    def count_tokens(self, text: str) -> int:
        return len(self.tokenizer.encode(text, add_special_tokens=False).ids)

    def token_offsets(self, text: str) -> list[tuple[int, int]] | None:
        return list(self.tokenizer.encode(text, add_special_tokens=False).offsets)

    def token_words(self, text: str) -> TokenWords | None:
        if type(self.tokenizer.pre_tokenizer).__name__ not in WORD_PRE_TOKENIZERS:
            return None
        encoding = self.tokenizer.encode(text, add_special_tokens=False)
        return encoding.offsets, encoding.word_ids

    def _run(self, ids_list: Sequence[Sequence[int]], *, bulk: bool = False) -> np.ndarray:
        """Vectors of one batch of token ids (with their special tokens), padded to its
        longest. `bulk`: on the one-thread session, beside the call's other batches."""
        width = max(len(ids) for ids in ids_list)
        ids = np.zeros((len(ids_list), width), dtype=np.int64)  # 0 is [PAD]
        mask = np.zeros_like(ids)
        for row, seq in enumerate(ids_list):
            ids[row, : len(seq)] = seq
            mask[row, : len(seq)] = 1
        feed = {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)}
        if bulk:  # one thread per run: runs side by side need no lock
            hidden = self._session(1).run(None, feed)[0]
        else:
            with self._lock:
                hidden = self.session.run(None, feed)[0]
        weights = mask[..., None].astype(np.float32)
        pooled = (hidden * weights).sum(axis=1) / np.clip(weights.sum(axis=1), 1e-9, None)
        norms = np.linalg.norm(pooled, axis=1, keepdims=True)
        return pooled / np.clip(norms, 1e-12, None)  # type: ignore[no-any-return]

    def batches(self, lengths: Sequence[int]) -> list[list[int]]:
        """Indexes of the texts (by token length) in the order and groups they are run:
        shortest first, cut into the consecutive groups of least model work (`run_cost`:
        each run's fixed cost against the padding a wider group adds), each at most
        EMBEDDING_BATCH_SIZE texts and, when EMBEDDING_BATCH_TOKENS is set, at most that
        many padded tokens (texts x its longest length; a longer text runs alone)."""
        order = sorted(range(len(lengths)), key=lambda i: lengths[i])
        widths = [lengths[i] for i in order]
        # least[end]: the least work for the first `end` texts; cut[end]: where its last
        # group starts (an exact minimum over every cut, O(texts x EMBEDDING_BATCH_SIZE))
        least = [0.0] + [math.inf] * len(widths)
        cut = [0] * (len(widths) + 1)
        for end in range(1, len(widths) + 1):
            width = widths[end - 1]  # sorted: the group's longest text
            for start in range(end - 1, max(0, end - self.batch_size) - 1, -1):
                texts = end - start
                if texts > 1 and 0 < self.batch_tokens < texts * width:
                    break
                work = least[start] + run_cost(texts, width)
                if work < least[end]:
                    least[end], cut[end] = work, start
        out: list[list[int]] = []
        end = len(widths)
        while end:
            out.append(order[cut[end] : end])
            end = cut[end]
        return out[::-1]

    def embed_documents(self, texts: Sequence[str]) -> list[list[float]]:
        return self._embed(texts, bulk=False)

    def embed_bulk(self, texts: Sequence[str]) -> list[list[float]]:
        """Batches side by side, each on one thread (EMBEDDING_BULK_RUNS at a time): when
        other work (Postgres, parsing) takes a core for a while, one run slows instead of
        every operator of the call waiting for its slowest thread (README, Performance →
        Ingest: with the batcher's runners, documents searchable 1.09-1.16x sooner)."""
        return self._embed(texts, bulk=self.bulk_runs > 1)

    def _embed(self, texts: Sequence[str], *, bulk: bool) -> list[list[float]]:
        if not texts:
            return []
        out: list[list[float]] = [[] for _ in texts]
        try:
            ids = [e.ids for e in self._batch_tok.encode_batch(list(texts))]
            # by length, so each batch pads little (a large speed-up on mixed input)
            order = self.batches([len(seq) for seq in ids])
            parts = [[ids[i] for i in idx] for idx in order]
            if bulk and len(parts) > 1:
                runs = list(self._bulk_pool().map(partial(self._run, bulk=True), parts))
            else:
                runs = [self._run(part, bulk=bulk) for part in parts]
            for idx, vectors in zip(order, runs, strict=True):
                for i, vec in zip(idx, vectors, strict=True):
                    out[i] = vec.tolist()
        except Exception as exc:  # onnxruntime raises its own types
            raise EmbeddingError(f"local embedding failed: {exc}") from exc
        return out

    def _bulk_pool(self) -> ThreadPoolExecutor:
        with self._sessions_lock:
            if self._pool is None:
                self._pool = ThreadPoolExecutor(self.bulk_runs, thread_name_prefix="embed-run")
            return self._pool
