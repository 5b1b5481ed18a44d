# shellcheck shell=bash
# Sourced, never run: the update signing key of test builds (issue 19, item 2), by
# scripts/test.sh (before anything is built), scripts/lib/built.sh and scripts/checks/*.
#
# A release is signed with the operator's private key, which is never in this repository
# (README, "Signed updates"). Test builds carry a key pair of their own, made once per checkout
# by the Tauri CLI's signer (the format releases are signed in) into target/update-test-key/
# (outside git), its password from INKSTONE_UPDATE_TEST_KEY_PASSWORD (the default is a
# throwaway: this key signs nothing but test bundles). The same key every run, so builds do not
# change from run to run. Exports:
#   INKSTONE_UPDATE_PUBLIC_KEY         built into every test build (src-tauri/src/commands/updates.rs)
#   INKSTONE_UPDATE_TEST_KEY           the private key file (`tauri signer sign -f`)
#   INKSTONE_UPDATE_TEST_KEY_PASSWORD  its password (`tauri signer sign -p`)
_inkstone_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
export INKSTONE_UPDATE_TEST_KEY_PASSWORD="${INKSTONE_UPDATE_TEST_KEY_PASSWORD:-inkstone-test-builds-only}"
export INKSTONE_UPDATE_TEST_KEY="$_inkstone_root/target/update-test-key/inkstone-test.key"
if [ ! -s "$INKSTONE_UPDATE_TEST_KEY.pub" ]; then
  mkdir -p "$(dirname "$INKSTONE_UPDATE_TEST_KEY")"
  "$_inkstone_root/ui/node_modules/.bin/tauri" signer generate --ci --force \
    -p "$INKSTONE_UPDATE_TEST_KEY_PASSWORD" -w "$INKSTONE_UPDATE_TEST_KEY" >/dev/null
fi
INKSTONE_UPDATE_PUBLIC_KEY="$(cat "$INKSTONE_UPDATE_TEST_KEY.pub")"
export INKSTONE_UPDATE_PUBLIC_KEY
unset _inkstone_root
