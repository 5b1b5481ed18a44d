#!/usr/bin/env bash
# End-to-end: the app (UI embedded) in a real window under Xvfb, driven by tauri-driver and
# WebKitWebDriver through the seed report's test flow, crashes and restarts, a payment endpoint
# outage, and the API key in the real Secret Service (gnome-keyring in a private D-Bus session
# with a throwaway HOME). Screenshots: target/e2e/*.png.
set -euo pipefail
cd "$(dirname "$0")/../.."
export PATH="$HOME/.cargo/bin:$PATH"
for tool in xvfb-run tauri-driver WebKitWebDriver zbarimg dbus-run-session gnome-keyring-daemon; do
  command -v "$tool" >/dev/null || { echo "50-e2e: $tool is missing (scripts/setup-system.sh installs it)" >&2; exit 1; }
done
./scripts/setup-ui.sh
# The update test signs bundles with the key the built app carries.
source scripts/lib/update-test-key.sh
TARGET="$(cargo metadata --format-version 1 --no-deps | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')"
mkdir -p target/e2e
# The binaries the test stage built (src-tauri/tests/launch.rs makes it build the app), so the
# shell is not compiled a second time with other features.
export INKSTONE_APP INKSTONE_SERVER_BIN E2E_BIN
INKSTONE_APP=$(scripts/lib/built.sh src-tauri bin inkstone-app)
INKSTONE_SERVER_BIN=$(scripts/lib/built.sh server bin inkstone-server)
E2E_BIN=$(scripts/lib/built.sh e2e test app)
export INKSTONE_DEMO_TOKENS_PER_SECOND=60
# The folder the "writer" picks for exports (the folder picker is native; a demo-only hook in
# export_pick_folder answers with this folder instead).
export INKSTONE_E2E_EXPORT_FOLDER="$PWD/target/e2e/picked-folder"
mkdir -p "$INKSTONE_E2E_EXPORT_FOLDER"
# A link the writer opens goes to a recorder instead of a browser (scripts/lib/xdg-open-recorder).
mkdir -p target/e2e/bin
ln -sf "$PWD/scripts/lib/xdg-open-recorder" target/e2e/bin/xdg-open
export PATH="$PWD/target/e2e/bin:$PATH" INKSTONE_E2E_OPENED="$PWD/target/e2e/opened-link.txt"
rm -f "$INKSTONE_E2E_OPENED"
# tauri-driver's port and WebKitWebDriver's (the next one); E2E_FILTER runs some tests only.
export E2E_PORT="${E2E_PORT:-4444}" E2E_FILTER="${E2E_FILTER:-}"
export INKSTONE_E2E_DRIVER="http://127.0.0.1:$E2E_PORT"
export RUSTUP_HOME="${RUSTUP_HOME:-$HOME/.rustup}" CARGO_HOME="${CARGO_HOME:-$HOME/.cargo}"
KEYRING_HOME=$(mktemp -d)
trap 'rm -rf "$KEYRING_HOME"' EXIT
HOME="$KEYRING_HOME" XDG_DATA_HOME="$KEYRING_HOME/.local/share" dbus-run-session -- \
  xvfb-run -a -s "-screen 0 1400x900x24" bash -c '
  echo -n "inkstone-e2e" | gnome-keyring-daemon --unlock --components=secrets >/dev/null
  tauri-driver --port "$E2E_PORT" --native-port "$((E2E_PORT + 1))" > target/e2e/tauri-driver.log 2>&1 &
  DRIVER=$!
  trap "kill $DRIVER 2>/dev/null || true" EXIT
  for _ in $(seq 1 50); do curl -sf "$INKSTONE_E2E_DRIVER/status" >/dev/null && break; sleep 0.2; done
  cd crates/e2e && "$E2E_BIN" -q --ignored --test-threads=1 $E2E_FILTER
'
echo "50-e2e: screenshots in target/e2e/"
