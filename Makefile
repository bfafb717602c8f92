# Cairn developer commands. `make help` lists them.
SHELL := /bin/bash
VENV ?= .venv
PY := $(VENV)/bin/python
API_PORT ?= 8000
API ?= http://127.0.0.1:$(API_PORT)
DATASET ?=
ARGS ?=
COLLECTION ?= examples

# Load .env, the URLs of the embedded databases of a running ./start.sh and its API key.
RUNENV := set -a; for f in .env data/run/services.env data/run/credentials.env; do \
	  [ -f "$$f" ] && . "./$$f"; done; set +a;

.PHONY: dev help start start-docker up stop status test logs migrate seed clean eval bench bench-query bench-hnsw bench-embed-cost bench-bm25-cut bench-ingest lint dev-deps

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-13s %s\n", $$1, $$2}'

start: ## install if needed and run everything (Ctrl-C stops)
	./start.sh

dev: ## as start, plus the web app's Vite dev server (hot reload on :5173)
	./start.sh --dev

start-docker: ## run the production stack: docker compose up --build
	./start.sh --docker

up: ## production stack: generate missing secrets into .env, then docker compose up --build -d
	python3 scripts/docker_secrets.py --env-file .env
	docker compose up --build -d

stop: ## stop an instance started by ./start.sh
	./start.sh --stop

status: ## the processes of a running ./start.sh (supervisorctl status)
	@test -f data/run/supervisord.conf || { echo "not started yet: make start"; exit 1; }
	$(VENV)/bin/supervisorctl -c data/run/supervisord.conf status

test: ## run the test suite (./run_tests.sh)
	./run_tests.sh

logs: ## follow the logs in data/logs
	@ls data/logs/*.log >/dev/null 2>&1 || { echo "no logs yet: run make start"; exit 1; }
	tail -n 50 -F data/logs/*.log

migrate: ## apply database migrations (to the running embedded Postgres, or DATABASE_URL)
	@$(RUNENV) cd backend && ../$(PY) -m app.cli migrate

seed: ## upload the sample documents in examples/ to a running instance
	@ls examples/* >/dev/null
	@$(RUNENV) curl -fsS -X POST "$(API)/api/v1/documents" -H "Authorization: Bearer $$CAIRN_API_KEY" \
	  $(foreach f,$(wildcard examples/*),-F "files=@$(f)") \
	  -F "collection=$(COLLECTION)" -F 'metadata={"source": "examples"}'
	@echo

clean: ## delete everything in data/ (asks first; FORCE=1 does not)
	@for f in data/run/start.pid data/run/supervisord.pid; do \
	  if [ -f "$$f" ] && kill -0 "$$(cat "$$f")" 2>/dev/null; then \
	    echo "Cairn is running: make stop first"; exit 1; fi; done
	@if [ "$(FORCE)" != 1 ]; then \
	  read -r -p "Delete the database, objects, models and logs in data/? [y/N] " answer; \
	  case "$$answer" in y|Y|yes) ;; *) echo "kept"; exit 1 ;; esac; fi
	find data -mindepth 1 -maxdepth 1 ! -name .gitkeep -exec rm -rf {} +

# eval and bench start a throwaway platform of their own unless ARGS="--api-url ..." says otherwise.
eval: ## evaluate retrieval: make eval DATASET=path [ARGS="..."]
	$(VENV)/bin/cairn eval $(DATASET) $(ARGS)

bench: ## ingest + search benchmark (synthetic text, pools compared) [ARGS="--docs 100 ..."]
	$(PY) bench/ingest_bench.py $(ARGS)

bench-query: ## search latency/QPS/recall at 10k and 100k chunks [ARGS="--sizes 10k,100k,1M ..."]
	cd backend && PYTHONPATH=. ../$(PY) ../bench/bench_query.py $(ARGS)

bench-hnsw: ## HNSW recall@10 and latency against ef_search at one size [ARGS="--size 1M --ef 40,200,1000"]
	cd backend && PYTHONPATH=. ../$(PY) ../bench/hnsw_sweep.py $(ARGS)

bench-embed-cost: ## one model run's cost by batch shape, and the batching cost model fitted to it [ARGS="--repeats 5"]
	cd backend && PYTHONPATH=. ../$(PY) ../bench/embed_cost.py $(ARGS)

bench-bm25-cut: ## BM25's per-term cut: recall and time per BM25_TERM_POSTINGS at one size DATASET=beir-dir [ARGS="--size 100k"]
	$(PY) bench/bm25_cut.py $(DATASET) $(ARGS)

bench-ingest: ## ingest vs the raw embedder, PDF/DOCX mix, big PDF, delete [DATASET=beir-dir] [ARGS=...]
	$(PY) bench/bench_ingest.py $(if $(DATASET),--dataset $(DATASET)) $(ARGS)

# LlamaIndex needs SQLAlchemy < 2.1 (the backend pins 2.1): it gets a venv of its own.
COMPARE_VENV ?= bench/.venv-compare
.PHONY: bench-compare
bench-compare: ## Cairn vs LlamaIndex+pgvector on SciFact: make bench-compare DATASET=path [ARGS="--docs 1000"]
	@test -x $(COMPARE_VENV)/bin/python || $(PY) -m venv $(COMPARE_VENV)
	@sha256sum bench/requirements-compare.txt | cmp -s - $(COMPARE_VENV)/.requirements.sha256 || \
	  { $(COMPARE_VENV)/bin/pip install -q -r bench/requirements-compare.txt && \
	    sha256sum bench/requirements-compare.txt > $(COMPARE_VENV)/.requirements.sha256; }
	$(PY) bench/compare.py $(if $(DATASET),--dataset "$(DATASET)") \
	  --llama-python $(COMPARE_VENV)/bin/python $(ARGS)

dev-deps:
	@$(VENV)/bin/ruff --version >/dev/null 2>&1 && $(VENV)/bin/mypy --version >/dev/null 2>&1 || \
	  $(PY) -m pip install -r backend/requirements-dev.txt

lint: dev-deps ## ruff and mypy --strict on backend/app
	cd backend && ../$(VENV)/bin/ruff check app && ../$(VENV)/bin/mypy app
