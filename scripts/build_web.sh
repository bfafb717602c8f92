#!/usr/bin/env bash
# Build the React web app (frontend/react-app -> dist/, served by the API at /) when Node is
# here and the build is missing or older than its sources. Without node/npm it says so and
# exits 0: the API and the console still start. FORCE=1 rebuilds anyway.
#   scripts/build_web.sh --dev   only install node_modules (when missing or stale) for the Vite
#                                dev server of ./start.sh --dev; exits 1 without node/npm.
set -uo pipefail
DEV=0
[ "${1:-}" = --dev ] && DEV=1
APP="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/frontend/react-app"
say() { printf '\033[1m[cairn]\033[0m %s\n' "$*"; }

[ -f "$APP/package.json" ] || exit 0
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  say "node/npm not found: the web app is not built (the API and console still run;"
  say "install Node 20+ and rerun, or open the console). / will say how to build it."
  [ "$DEV" = 1 ] && exit 1
  exit 0
fi
install_modules() {
  if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
    say "installing the web app's packages (npm ci in frontend/react-app)"
    npm ci --no-audit --no-fund --loglevel=error || { say "npm ci failed"; return 1; }
  fi
}
if [ "$DEV" = 1 ]; then
  cd "$APP" && install_modules
  exit
fi
stamp="$APP/dist/index.html"
if [ "${FORCE:-0}" != 1 ] && [ -f "$stamp" ] && [ -z "$(find "$APP/src" "$APP/index.html" \
    "$APP/package.json" "$APP/package-lock.json" "$APP/vite.config.ts" -newer "$stamp" \
    -print -quit 2>/dev/null)" ]; then
  say "web app is up to date (frontend/react-app/dist)"
  exit 0
fi
say "building the web app (npm ci && npm run build in frontend/react-app)"
cd "$APP" || exit 1
install_modules || { say "web app not built"; exit 1; }
npm run build --silent || { say "npm run build failed: web app not built"; exit 1; }
