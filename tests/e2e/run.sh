#!/usr/bin/env bash
# End-to-end test of the console: builds the server, starts it on a free port
# with a fresh SQLite database and the demo province, drives one headless
# Chromium context per role through the hotline scenario, saves screenshots
# to ci-artifacts/screenshots/, and stops the server.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
E2E="$ROOT/tests/e2e"
cd "$ROOT"

log() { printf '[e2e] %s\n' "$*"; }

# --- system packages: Chromium, CJK fonts, Node ---------------------------
missing=()
[ -x /usr/bin/chromium ] || missing+=(chromium)
dpkg -s fonts-noto-cjk >/dev/null 2>&1 || missing+=(fonts-noto-cjk)
command -v node >/dev/null 2>&1 || missing+=(nodejs)
command -v npm >/dev/null 2>&1 || missing+=(npm)
command -v pdftotext >/dev/null 2>&1 || missing+=(poppler-utils) # the agreement PDF's text
if [ "${#missing[@]}" -gt 0 ]; then
  log "installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# --- node packages ---------------------------------------------------------
if [ -f "$E2E/package-lock.json" ]; then
  (cd "$E2E" && npm ci --no-audit --no-fund --loglevel=error)
else
  (cd "$E2E" && npm install --no-audit --no-fund --loglevel=error)
fi

# --- server ----------------------------------------------------------------
if [ -z "${LIANXIN_BIN:-}" ]; then
  log "building the server"
  cargo build -q -p lianxin
  LIANXIN_BIN="$ROOT/target/debug/lianxin"
fi

PORT="$(node -e "const s=require('net').createServer();s.listen(0,'127.0.0.1',()=>{console.log(s.address().port);s.close()})")"
WORK="$(mktemp -d -t lianxin-e2e.XXXXXX)"
mkdir -p "$WORK/data"
cat > "$WORK/lianxin.toml" <<TOML
listen = "127.0.0.1:$PORT"
public_url = "http://127.0.0.1:$PORT"
data_dir = "$WORK/data"
static_dir = "$ROOT/frontend-dist"

[auth]
allowed_origins = ["http://127.0.0.1:$PORT"]

# An imminent alert unacknowledged for 40 s climbs a level (5 min in
# production), so the browser test sees a raise happen live.
[deadlines.imminent]
acknowledge_s = 40
raise_every_s = 40
TOML

export LIANXIN_BIN
export LIANXIN_CONFIG="$WORK/lianxin.toml"
export LIANXIN_LISTEN="127.0.0.1:$PORT"
export LIANXIN_DATABASE_URL="sqlite://$WORK/data/lianxin.db?mode=rwc"
export LIANXIN_CTI_SECRET="e2e-cti-secret"
export LIANXIN_PIDFILE="$WORK/server.pid"
export LIANXIN_LOG="$WORK/server.log"
export RUST_LOG="${RUST_LOG:-info,sqlx=warn}"
export BASE_URL="http://127.0.0.1:$PORT"
export SCREENSHOT_DIR="$ROOT/ci-artifacts/screenshots"
mkdir -p "$SCREENSHOT_DIR"

log "loading the demo province"
"$LIANXIN_BIN" demo >"$WORK/demo.log" 2>&1

stop_server() {
  if [ -f "$LIANXIN_PIDFILE" ]; then
    local pid
    pid="$(cat "$LIANXIN_PIDFILE")"
    if kill -0 "$pid" 2>/dev/null; then
      kill -TERM "$pid" 2>/dev/null || true
      for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
      kill -KILL "$pid" 2>/dev/null || true
    fi
  fi
}
cleanup() {
  local rc=$?
  stop_server
  if [ "$rc" -ne 0 ] && [ -f "$LIANXIN_LOG" ]; then
    log "server log (last 60 lines):"
    tail -n 60 "$LIANXIN_LOG" || true
  fi
  mkdir -p "$ROOT/ci-artifacts"
  cp "$LIANXIN_LOG" "$ROOT/ci-artifacts/e2e-server.log" 2>/dev/null || true
  rm -rf "$WORK"
  exit "$rc"
}
trap cleanup EXIT

log "starting the server on port $PORT"
"$LIANXIN_BIN" serve >>"$LIANXIN_LOG" 2>&1 &
echo $! >"$LIANXIN_PIDFILE"
for i in $(seq 1 100); do
  if node -e "fetch(process.argv[1]).then(r=>process.exit(r.ok?0:1),()=>process.exit(1))" "$BASE_URL/readyz"; then break; fi
  if ! kill -0 "$(cat "$LIANXIN_PIDFILE")" 2>/dev/null; then log "server exited"; exit 1; fi
  [ "$i" -eq 100 ] && { log "server not ready"; exit 1; }
  sleep 0.2
done

# E2E_ONLY=finding.test.mjs runs that file alone (while working on it).
if [ -z "${E2E_ONLY:-}" ]; then
  log "running the console scenario"
  node "$E2E/console.test.mjs"
fi
# Then each workflow's own file (harness.mjs), against the same server.
for f in "$E2E"/*.test.mjs; do
  [ "$(basename "$f")" = console.test.mjs ] && continue
  [ -n "${E2E_ONLY:-}" ] && [ "$(basename "$f")" != "$E2E_ONLY" ] && continue
  log "running $(basename "$f")"
  node "$f"
done
