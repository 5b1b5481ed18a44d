#!/usr/bin/env bash
# Installs what the app and its tests need on Debian 12 / Ubuntu 22.04+, only when missing.
# Idempotent and quick when everything is there: it checks with dpkg-query before asking apt.
# Uses sudo only when not root. Set INKSTONE_SKIP_SETUP=1 to skip (e.g. on a non-Debian system
# that you prepared yourself).
set -euo pipefail

if [ "${INKSTONE_SKIP_SETUP:-0}" = "1" ]; then
  exit 0
fi

# Tauri 2 on Linux (WebKitGTK 4.1), the E2E suite (Xvfb, WebKitWebDriver), and later tests
# (secret service for the keychain, zbar to read payment QR codes back), and a CJK font so
# the E2E screenshots show Chinese text instead of boxes.
PACKAGES=(
  build-essential curl file pkg-config libssl-dev mold
  libwebkit2gtk-4.1-dev librsvg2-dev libayatana-appindicator3-dev libxdo-dev
  webkit2gtk-driver xvfb xauth
  gnome-keyring dbus-x11 dbus-daemon libsecret-tools zbar-tools
  fonts-wqy-microhei faketime
  # WebKitGTK plays <video> through GStreamer: MP4 demuxing (good), H.264 parsing (bad) and
  # decoding (libav), GL video output (gl). The .deb depends on the same (tauri.conf.json).
  gstreamer1.0-plugins-base gstreamer1.0-plugins-good gstreamer1.0-plugins-bad
  gstreamer1.0-libav gstreamer1.0-gl
  # The workspace's .docx export is checked by LibreOffice Writer (checks/41-docx-libreoffice.sh).
  libreoffice-writer
  # The E2E suite closes the window as a window manager would (WM_DELETE_WINDOW, which
  # WebDriver's close bypasses): scripts/lib/wm-delete-window.py.
  python3-xlib
)

as_root() {
  if [ "$(id -u)" = "0" ]; then
    "$@"
  elif command -v sudo >/dev/null; then
    sudo "$@"
  else
    echo "setup-system: need root or sudo to run: $*" >&2
    exit 1
  fi
}

if ! command -v dpkg-query >/dev/null; then
  echo "setup-system: not a Debian/Ubuntu system; install the equivalents of: ${PACKAGES[*]}" >&2
  echo "setup-system: then run again with INKSTONE_SKIP_SETUP=1" >&2
  exit 1
fi

installed() {
  [ "$(dpkg-query -W -f='${Status}' "$1" 2>/dev/null)" = "install ok installed" ]
}

missing=()
for p in "${PACKAGES[@]}"; do
  installed "$p" || missing+=("$p")
done

# Node.js >= 18 for the UI toolchain (Vite 6, Vitest 3, vue-tsc). Debian 12 ships 18.
node_major() { node -e 'console.log(process.versions.node.split(".")[0])' 2>/dev/null || echo 0; }
if ! command -v node >/dev/null || [ "$(node_major)" -lt 18 ]; then
  missing+=(nodejs)
fi
# A NodeSource nodejs bundles npm; Debian's does not.
if ! command -v npm >/dev/null; then
  missing+=(npm)
fi

if [ "${#missing[@]}" -gt 0 ]; then
  echo "setup-system: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  as_root apt-get update -q
  as_root apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

# Rust: Debian's rustc is too old for this workspace (rust-version 1.85); use rustup.
if ! command -v cargo >/dev/null; then
  if [ -x "$HOME/.cargo/bin/cargo" ]; then
    export PATH="$HOME/.cargo/bin:$PATH"
  else
    echo "setup-system: installing the Rust toolchain with rustup"
    curl --proto '=https' --tlsv1.2 -sSf https://sh.rustup.rs | sh -s -- -y --profile minimal
    export PATH="$HOME/.cargo/bin:$PATH"
  fi
fi
rustup component add rustfmt clippy >/dev/null 2>&1 || true

# tauri-driver: the WebDriver bridge the E2E suite talks to. Own target dir so this build does
# not disturb (or get cleaned with) the project's.
TAURI_DRIVER_VERSION=2.1.0
if ! command -v tauri-driver >/dev/null && [ ! -x "$HOME/.cargo/bin/tauri-driver" ]; then
  echo "setup-system: cargo install tauri-driver $TAURI_DRIVER_VERSION"
  CARGO_TARGET_DIR="${TMPDIR:-/tmp}/inkstone-tauri-driver-build" \
    cargo install tauri-driver --version "$TAURI_DRIVER_VERSION" --locked
fi
