#!/usr/bin/env bash
# The keychain crate against a real Secret Service: gnome-keyring inside a
# private D-Bus session with a throwaway HOME (no display needed).
set -euo pipefail
cd "$(dirname "$0")/../.."
SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
need=()
command -v gnome-keyring-daemon >/dev/null || need+=(gnome-keyring)
command -v dbus-run-session >/dev/null || need+=(dbus)
if [ "${#need[@]}" -gt 0 ]; then
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi
export TEST_BIN
TEST_BIN=$(scripts/lib/built.sh keychain test secret_service)
# A fresh HOME for the keyring, but the same Rust toolchain.
export RUSTUP_HOME="${RUSTUP_HOME:-$HOME/.rustup}" CARGO_HOME="${CARGO_HOME:-$HOME/.cargo}"
HOME_DIR=$(mktemp -d)
trap 'rm -rf "$HOME_DIR"' EXIT
HOME="$HOME_DIR" XDG_DATA_HOME="$HOME_DIR/.local/share" dbus-run-session -- sh -c '
  echo -n "inkstone-test" | gnome-keyring-daemon --unlock --components=secrets >/dev/null
  cd crates/keychain && "$TEST_BIN" -q --ignored
'
