#!/usr/bin/env bash
# Installs the UI's npm packages (exactly package-lock.json, only when it changed) and builds
# ui/dist, which the Tauri shell embeds at compile time (`frontendDist`): run it before any
# cargo build of src-tauri.
set -euo pipefail
cd "$(dirname "$0")/../ui"

stamp=node_modules/.inkstone-lock.sha256
want="$(sha256sum package-lock.json | cut -d' ' -f1)"
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
  echo "setup-ui: npm ci"
  npm ci --no-audit --no-fund --loglevel=error
  echo "$want" > "$stamp"
fi

if [ "${1:-}" != "--deps-only" ]; then
  # Only when a source is newer than the last build: a fresh dist/ would change nothing but its
  # file times, and those make cargo compile the shell (which embeds dist/) again.
  if [ ! -f dist/index.html ] ||
    [ -n "$(find src public index.html vite.config.ts tsconfig.json package.json package-lock.json \
      -newer dist/index.html -print -quit 2>/dev/null)" ]; then
    echo "setup-ui: vite build"
    npx --no-install vite build --logLevel warn
  else
    echo "setup-ui: ui/dist is up to date"
  fi
fi
