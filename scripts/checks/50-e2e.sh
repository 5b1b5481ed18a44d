#!/usr/bin/env bash
# End-to-end: the app (UI embedded) in a real window under Xvfb, driven by tauri-driver and
# WebKitWebDriver through the seed report's test flow. Screenshots: target/e2e/*.png.
set -euo pipefail
cd "$(dirname "$0")/../.."
export PATH="$HOME/.cargo/bin:$PATH"
for tool in xvfb-run tauri-driver WebKitWebDriver zbarimg; do
  command -v "$tool" >/dev/null || { echo "50-e2e: $tool is missing (scripts/setup-system.sh installs it)" >&2; exit 1; }
done
./scripts/setup-ui.sh
cargo build -q -p inkstone-app
cargo test -q -p inkstone-e2e --no-run
APP="$(cargo metadata --format-version 1 --no-deps | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')/debug/inkstone-app"
mkdir -p target/e2e
export INKSTONE_APP="$APP" INKSTONE_MEMORY_KEYCHAIN=1 INKSTONE_DEMO_TOKENS_PER_SECOND=60
# No Secret Service in CI: the app keeps keys in memory (debug builds only, by this variable).
xvfb-run -a -s "-screen 0 1400x900x24" bash -c '
  tauri-driver --port 4444 > target/e2e/tauri-driver.log 2>&1 &
  DRIVER=$!
  trap "kill $DRIVER 2>/dev/null || true" EXIT
  for _ in $(seq 1 50); do curl -sf http://127.0.0.1:4444/status >/dev/null && break; sleep 0.2; done
  cargo test -q -p inkstone-e2e -- --ignored --test-threads=1
'
echo "50-e2e: screenshots in target/e2e/"
