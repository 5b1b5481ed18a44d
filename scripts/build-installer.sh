#!/usr/bin/env bash
# Builds a release of the app and its .deb (target/release/bundle/deb/). Release builds never
# seed demo users. Other bundle kinds: pass them, e.g. `./scripts/build-installer.sh rpm`
# (AppImage needs internet at build time: the bundler downloads linuxdeploy).
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup-system.sh
export PATH="$HOME/.cargo/bin:$PATH"
./scripts/setup-ui.sh --deps-only
bundles="${1:-deb}"
# The CLI runs the UI build (beforeBuildCommand) and embeds ui/dist.
ui/node_modules/.bin/tauri build --bundles "$bundles"
for deb in target/release/bundle/deb/*.deb; do
  [ -f "$deb" ] || continue
  echo "$deb: $(du -h "$deb" | cut -f1) file, installed size $(dpkg-deb -f "$deb" Installed-Size) KiB"
done
