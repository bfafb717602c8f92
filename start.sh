#!/usr/bin/env bash
# Cairn: one command to run the whole platform on this machine, no Docker needed.
#
#   ./start.sh            install (first run only), start everything, stop on Ctrl-C
#   ./start.sh --stop     stop an instance started elsewhere (uses the pid files in data/run)
#   ./start.sh --docker   run the production stack instead: docker compose up --build
#
# What runs: embedded Postgres 16 + pgvector (data/postgres) and Redis (data/redis) through
# `python -m app.cli services`, the API (uvicorn), one Celery worker with beat embedded, and
# the Gradio console. Logs go to data/logs/*.log. Works with the bash 3.2 that macOS ships.
# Overrides (environment or .env): PYTHON, API_HOST, API_PORT, CONSOLE_PORT, REDIS_PORT,
# DATA_DIR, TORCH_SPEC, TORCH_INDEX_URL, READY_TIMEOUT, SKIP_INSTALL=1.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
BACKEND="$ROOT/backend"
CONSOLE_DIR="$ROOT/frontend/gradio-interface"
VENV="$ROOT/.venv"

say() { printf '\033[1m[cairn]\033[0m %s\n' "$*"; }
warn() { printf '\033[1;33m[cairn]\033[0m %s\n' "$*" >&2; }
die() { printf '\033[1;31m[cairn]\033[0m %s\n' "$*" >&2; exit 1; }

usage() { sed -n '2,12p' "$0" | sed 's/^# \{0,1\}//'; }

MODE=run
case "${1:-}" in
  "") ;;
  --stop) MODE=stop ;;
  --docker) MODE=docker ;;
  -h|--help) usage; exit 0 ;;
  *) usage >&2; exit 2 ;;
esac

# --- configuration ----------------------------------------------------------------------------
# .env fills in what the environment does not set (API_PORT=8100 ./start.sh wins over .env).
if [ -f "$ROOT/.env" ]; then
  _saved_env="$(export -p)"
  set -a
  # shellcheck disable=SC1091
  . "$ROOT/.env"
  set +a
  eval "$_saved_env" 2>/dev/null || true
  unset _saved_env
fi

DATA_DIR="${DATA_DIR:-$ROOT/data}"
case "$DATA_DIR" in /*) ;; *) DATA_DIR="$ROOT/$DATA_DIR" ;; esac
RUN_DIR="$DATA_DIR/run"
LOG_DIR="$DATA_DIR/logs"
API_HOST="${API_HOST:-127.0.0.1}"
API_PORT="${API_PORT:-8000}"
CONSOLE_PORT="${CONSOLE_PORT:-${GRADIO_SERVER_PORT:-7860}}"
REDIS_PORT="${REDIS_PORT:-6379}"
READY_TIMEOUT="${READY_TIMEOUT:-180}"
TORCH_SPEC="${TORCH_SPEC:-torch==2.13.0}"
SERVICES_ENV="$RUN_DIR/services.env"
export DATA_DIR

# The order in which the processes are stopped: consumers first, the databases last.
PROCS="console api worker services"

pid_of() { cat "$RUN_DIR/$1.pid" 2>/dev/null || true; }
# Is `pid` alive and still the process we started (its command line contains `pattern`)?
alive() {
  [ -n "$1" ] && kill -0 "$1" 2>/dev/null || return 1
  [ -z "${2:-}" ] && return 0
  ps -p "$1" -o command= 2>/dev/null | grep -q -- "$2"
}

pattern_of() {
  case "$1" in services) echo "app.cli services" ;; api) echo uvicorn ;; worker) echo celery ;;
    console) echo app.py ;; *) echo start.sh ;; esac
}

# Send SIGTERM, wait up to `timeout` seconds, then SIGKILL the process group.
stop_pid() {
  local name="$1" pid="$2" timeout="${3:-30}" i=0
  alive "$pid" || return 0
  kill -TERM "$pid" 2>/dev/null || true
  while alive "$pid" && [ "$i" -lt $((timeout * 5)) ]; do
    sleep 0.2
    i=$((i + 1))
  done
  if alive "$pid"; then
    warn "$name (pid $pid) did not stop in ${timeout}s; killing it"
    kill -KILL -- "-$pid" 2>/dev/null || kill -KILL "$pid" 2>/dev/null || true
  fi
  # A prefork/beat child may outlive its parent for a moment: end the rest of the group.
  kill -TERM -- "-$pid" 2>/dev/null || true
}

# --- ./start.sh --docker ------------------------------------------------------------------------
if [ "$MODE" = docker ]; then
  cd "$ROOT"
  # docker-compose.yml has no default secrets: generate the missing ones into .env (mode 600).
  "${PYTHON:-python3}" "$ROOT/scripts/docker_secrets.py" --env-file "$ROOT/.env" \
    || die "could not prepare the secrets in .env (see above)"
  if docker compose version >/dev/null 2>&1; then
    exec docker compose up --build
  elif command -v docker-compose >/dev/null 2>&1; then
    exec docker-compose up --build
  fi
  die "docker compose is not installed (see https://docs.docker.com/compose/install/)"
fi

# --- ./start.sh --stop ------------------------------------------------------------------------------
if [ "$MODE" = stop ]; then
  pid="$(pid_of start)"
  found=0
  if alive "$pid" "start.sh"; then
    found=1
    say "stopping the instance run by start.sh (pid $pid)"
    kill -TERM "$pid"
    i=0
    while alive "$pid" && [ "$i" -lt 600 ]; do sleep 0.2; i=$((i + 1)); done
    alive "$pid" && die "start.sh (pid $pid) is still running after 120s"
  fi
  for name in $PROCS; do
    pid="$(pid_of "$name")"
    if alive "$pid" "$(pattern_of "$name")"; then
      found=1
      say "stopping $name (pid $pid)"
      stop_pid "$name" "$pid" 60
    fi
    rm -f "$RUN_DIR/$name.pid"
  done
  rm -f "$RUN_DIR/start.pid" "$SERVICES_ENV"
  [ "$found" = 1 ] || say "Cairn was not running"
  say "stopped"
  exit 0
fi

# --- Python and the virtualenv ---------------------------------------------------------------------
find_python() {
  local candidate
  for candidate in ${PYTHON:-} python3 python3.11 python3.12 python3.13 python; do
    if command -v "$candidate" >/dev/null 2>&1 &&
      "$candidate" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else 1)' 2>/dev/null; then
      command -v "$candidate"
      return 0
    fi
  done
  return 1
}

if [ ! -x "$VENV/bin/python" ] || ! "$VENV/bin/python" -c 'import sys' 2>/dev/null; then
  BASE_PY="$(find_python)" || die "Python 3.11 or newer is needed (set PYTHON=/path/to/python3.11)"
  say "creating $VENV with $("$BASE_PY" --version 2>&1)"
  rm -rf "$VENV"
  "$BASE_PY" -m venv "$VENV"
fi
PY="$VENV/bin/python"
export PATH="$VENV/bin:$PATH"

REQ_FILES="$BACKEND/requirements.txt $BACKEND/requirements-embedded.txt"
[ -f "$CONSOLE_DIR/requirements.txt" ] && REQ_FILES="$REQ_FILES $CONSOLE_DIR/requirements.txt"
STAMP="$VENV/.cairn-install-stamp"
SETUP="$ROOT/scripts/local_setup.py"  # small stdlib helpers shared with start.bat
# shellcheck disable=SC2086
want_stamp="$("$PY" "$SETUP" stamp "$TORCH_SPEC" $REQ_FILES "$BACKEND/pyproject.toml")"

if [ "${SKIP_INSTALL:-0}" = 1 ]; then
  say "SKIP_INSTALL=1: not checking the installed packages"
elif [ "$(cat "$STAMP" 2>/dev/null || true)" = "$want_stamp" ]; then
  say "dependencies up to date (requirements unchanged since the last install)"
else
  t0=$(date +%s)
  say "installing dependencies into .venv (the first time takes a few minutes)"
  # torch first, pinned: an unpinned torch pulls a multi-GB CUDA build. It is needed once, to
  # export the embedding model to ONNX. TORCH_INDEX_URL=https://download.pytorch.org/whl/cpu
  # picks the CPU-only build on Linux machines whose pip would otherwise fetch the CUDA one.
  if [ -n "${TORCH_INDEX_URL:-}" ]; then
    "$PY" -m pip install "$TORCH_SPEC" --index-url "$TORCH_INDEX_URL"
  else
    "$PY" -m pip install "$TORCH_SPEC"
  fi
  req_args=""
  for f in $REQ_FILES; do req_args="$req_args -r $f"; done
  # shellcheck disable=SC2086
  "$PY" -m pip install $req_args | { grep -v '^Requirement already satisfied' || true; }
  "$PY" -m pip install --no-deps -e "$BACKEND"
  echo "$want_stamp" > "$STAMP"
  say "dependencies installed in $(( $(date +%s) - t0 ))s"
fi

# --- start everything -------------------------------------------------------------------------------
mkdir -p "$RUN_DIR" "$LOG_DIR"

if alive "$(pid_of start)" "start.sh"; then
  die "Cairn is already running (start.sh pid $(pid_of start)); stop it with ./start.sh --stop"
fi
for name in $PROCS; do
  pid="$(pid_of "$name")"
  if alive "$pid" "$(pattern_of "$name")"; then
    die "a $name process from an earlier run is still alive (pid $pid); run ./start.sh --stop"
  fi
  rm -f "$RUN_DIR/$name.pid"
done

for spec in "API_PORT:$API_HOST:$API_PORT" "REDIS_PORT:127.0.0.1:$REDIS_PORT" \
  "CONSOLE_PORT:127.0.0.1:$CONSOLE_PORT"; do
  var="${spec%%:*}"; rest="${spec#*:}"; host="${rest%:*}"; port="${rest##*:}"
  "$PY" "$SETUP" port-free "$host" "$port" || die "port $port ($var) is in use; free it or set $var=<port>"
done

# Accounts. Unless ADMIN_EMAIL and ADMIN_PASSWORD are set (or AUTH_ENABLED=false), the first
# run makes a local admin and keeps its credentials, and an API key for the console and for
# curl, in data/run/credentials.env (mode 600). Later runs reuse them.
CREDENTIALS="$RUN_DIR/credentials.env"
AUTH_ON=1
case "$(printf %s "${AUTH_ENABLED:-true}" | tr '[:upper:]' '[:lower:]')" in
  false|0|no|off) AUTH_ON=0 ;;
esac
if [ "$AUTH_ON" = 1 ]; then
  if [ ! -s "$CREDENTIALS" ] && { [ -z "${ADMIN_EMAIL:-}" ] || [ -z "${ADMIN_PASSWORD:-}" ]; }; then
    "$PY" "$SETUP" admin "$CREDENTIALS"
  fi
  if [ -s "$CREDENTIALS" ]; then
    set -a
    # shellcheck disable=SC1090
    . "$CREDENTIALS"
    set +a
  fi
fi

echo $$ > "$RUN_DIR/start.pid"
rm -f "$SERVICES_ENV"

# Each child runs in its own process group (job control on), so Ctrl-C reaches only this
# script, which then stops the children in order: console, API, worker, databases last.
set -m
STOPPING=0

cleanup() {
  local code="${1:-0}"
  [ "$STOPPING" = 1 ] && return
  STOPPING=1
  trap '' INT TERM
  echo
  say "stopping..."
  for name in $PROCS; do
    pid="$(pid_of "$name")"
    if [ -n "$pid" ]; then
      stop_pid "$name" "$pid" 60
      wait "$pid" 2>/dev/null || true
    fi
    rm -f "$RUN_DIR/$name.pid"
  done
  rm -f "$RUN_DIR/start.pid" "$SERVICES_ENV"
  say "stopped"
  exit "$code"
}
trap 'cleanup 130' INT
trap 'cleanup 143' TERM
trap 'cleanup 1' ERR

# start NAME LOGFILE COMMAND...: run COMMAND in the background, record its pid.
launch() {
  local name="$1"
  shift
  printf '\n===== %s: %s =====\n' "$(date '+%Y-%m-%d %H:%M:%S')" "$name" >> "$LOG_DIR/$name.log"
  "$@" >> "$LOG_DIR/$name.log" 2>&1 < /dev/null &
  echo $! > "$RUN_DIR/$name.pid"
  disown $!  # watched through its pid file; no job-control chatter from bash
}

failed() {
  warn "$1; the last lines of $LOG_DIR/$2.log:"
  tail -n 40 "$LOG_DIR/$2.log" >&2 || true
  cleanup 1
}

# A process died. The console is optional: say so and go on without it. Anything else is fatal.
exited() {
  if [ "$1" = console ]; then
    warn "the console exited ($2); the platform goes on without it. Its log:"
    tail -n 20 "$LOG_DIR/console.log" >&2 || true
    rm -f "$RUN_DIR/console.pid"
    CONSOLE=0
    CONSOLE_FAILED=1
  else
    failed "$1 exited $2" "$1"
  fi
}

t_start=$(date +%s)
say "starting Postgres + Redis (data in $DATA_DIR)"
launch services "$PY" -m app.cli services --data-dir "$DATA_DIR" --redis-port "$REDIS_PORT" \
  --env-file "$SERVICES_ENV"
i=0
while [ ! -s "$SERVICES_ENV" ]; do
  alive "$(pid_of services)" || failed "the embedded databases did not start" services
  [ "$i" -ge 600 ] && failed "the embedded databases did not start in 120s" services
  sleep 0.2
  i=$((i + 1))
done
set -a
# shellcheck disable=SC1090
. "$SERVICES_ENV"
set +a

export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 GRADIO_ANALYTICS_ENABLED=False
cd "$BACKEND"
say "applying database migrations"
"$PY" -m app.cli migrate >> "$LOG_DIR/migrate.log" 2>&1 || failed "migrations failed" migrate
say "preparing the embedding model"
"$PY" -m app.cli export-model >> "$LOG_DIR/migrate.log" 2>&1 || failed "model export failed" migrate

say "starting the API on http://$API_HOST:$API_PORT"
launch api "$VENV/bin/uvicorn" app.main:app --host "$API_HOST" --port "$API_PORT"
say "starting the worker (Celery, with beat)"
launch worker "$VENV/bin/celery" -A app.workers worker -B -Q ingest,maintenance -c 1 -l info \
  -s "$RUN_DIR/celerybeat-schedule"
cd "$ROOT"

HAVE_CONSOLE=0
[ -f "$CONSOLE_DIR/app.py" ] && [ -f "$CONSOLE_DIR/requirements.txt" ] && HAVE_CONSOLE=1
CONSOLE=0
CONSOLE_FAILED=0
CONSOLE_KEY="${CAIRN_API_KEY:-}"
start_console() {
  say "starting the console on http://127.0.0.1:$CONSOLE_PORT"
  API_BASE_URL="http://127.0.0.1:$API_PORT" GRADIO_SERVER_PORT="$CONSOLE_PORT" \
    GRADIO_SERVER_NAME="${GRADIO_SERVER_NAME:-127.0.0.1}" CAIRN_API_KEY="${CAIRN_API_KEY:-}" \
    launch console "$PY" "$CONSOLE_DIR/app.py"
  CONSOLE=1
  CONSOLE_KEY="${CAIRN_API_KEY:-}"
}
# With the key of an earlier run (or no auth), the console starts alongside the API.
if [ "$HAVE_CONSOLE" = 1 ] && { [ "$AUTH_ON" = 0 ] || [ -n "$CONSOLE_KEY" ]; }; then
  start_console
fi

say "waiting for the API to be ready"
READY_URL="http://127.0.0.1:$API_PORT/api/health/ready"
# One try at URL (then a pause of about a second if it did not answer 200).
http_ok() { "$PY" "$SETUP" wait-ready "$1" 1; }
i=0
until http_ok "$READY_URL"; do
  for name in $PROCS; do
    pid="$(pid_of "$name")"
    [ -z "$pid" ] || alive "$pid" || exited "$name" "during start-up"
  done
  [ "$i" -ge "$READY_TIMEOUT" ] && failed "the API was not ready after ${READY_TIMEOUT}s" api
  i=$((i + 1))
done
# An API key for the console (and for curl), made once with the admin's password.
if [ "$AUTH_ON" = 1 ]; then
  if "$PY" "$SETUP" api-key "$CREDENTIALS" "http://127.0.0.1:$API_PORT"; then
    set -a
    # shellcheck disable=SC1090
    . "$CREDENTIALS"
    set +a
  else
    warn "no API key for the console: create one (POST /api/v1/api-keys) and paste it there"
  fi
fi

if [ "$HAVE_CONSOLE" = 1 ]; then
  # A console started with a key that is no longer valid restarts with the new one.
  if [ "$CONSOLE" = 1 ] && [ "${CAIRN_API_KEY:-}" != "$CONSOLE_KEY" ]; then
    stop_pid console "$(pid_of console)" 20
    rm -f "$RUN_DIR/console.pid"
    CONSOLE=0
  fi
  [ "$CONSOLE" = 1 ] || [ "$CONSOLE_FAILED" = 1 ] || start_console
  i=0
  until [ "$CONSOLE" = 0 ] || http_ok "http://127.0.0.1:$CONSOLE_PORT/" || [ "$i" -ge 120 ]; do
    alive "$(pid_of console)" || exited console "during start-up"
    i=$((i + 1))
  done
else
  warn "no console yet ($CONSOLE_DIR/app.py or its requirements.txt is missing): skipping it"
fi

cat <<EOF

  Cairn is ready (started in $(( $(date +%s) - t_start ))s).
    API          http://127.0.0.1:$API_PORT
    API docs     http://127.0.0.1:$API_PORT/docs
EOF
[ "$CONSOLE" = 1 ] && echo "    Console      http://127.0.0.1:$CONSOLE_PORT"
cat <<EOF
    Data         $DATA_DIR   (logs: $LOG_DIR)
EOF
if [ "$AUTH_ON" = 1 ] && [ -s "$CREDENTIALS" ]; then
  echo "    Sign-in      ${ADMIN_EMAIL:-} (ADMIN_PASSWORD and CAIRN_API_KEY: $CREDENTIALS)"
fi
cat <<EOF
  Stop with Ctrl-C here, or ./start.sh --stop (make stop) from another terminal.

EOF

# Watch the children; if one dies, say so and stop the rest.
while true; do
  for name in $PROCS; do
    pid="$(pid_of "$name")"
    [ -z "$pid" ] || alive "$pid" || exited "$name" "unexpectedly"
  done
  sleep 2 &
  wait $! 2>/dev/null || true
done
