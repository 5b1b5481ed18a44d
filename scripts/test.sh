#!/usr/bin/env bash
# Runs every test of the project. Works on a fresh Debian 12 clone, with or without CI=true.
set -euo pipefail
cd "$(dirname "$0")/.."

# First: system packages (WebKitGTK for src-tauri, Xvfb and WebKitWebDriver for E2E), Node.js,
# Rust and tauri-driver, each only when missing. `cargo test --workspace` compiles the Tauri shell.
./scripts/setup-system.sh
# setup-system.sh installed Rust (with rustfmt and clippy) when it was missing; this shell
# still needs its PATH.
export PATH="$HOME/.cargo/bin:$PATH"

echo "== UI: npm ci (when the lock file changed) and vite build (src-tauri embeds ui/dist)"
./scripts/setup-ui.sh

echo "== cargo fmt --check"
cargo fmt --all --check
echo "== cargo clippy (warnings denied)"
cargo clippy --workspace --all-targets -- -D warnings
echo "== cargo test"
cargo test --workspace

echo "== UI: type-check (vue-tsc) and unit tests (Vitest)"
(cd ui && npm run --silent typecheck && npx --no-install vitest run)

# Extra checks (Python cross-checks, PostgreSQL, keychain) live in scripts/checks/.
if [ -d scripts/checks ]; then
  for check in scripts/checks/*.sh; do
    [ -x "$check" ] || continue
    echo "== $check"
    "$check"
  done
fi
echo "== all tests passed"
