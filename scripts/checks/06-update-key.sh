#!/usr/bin/env bash
# The public update key built into test builds matches the key test bundles are signed with
# (issue 19, item 2): a file is signed with the Tauri CLI's signer (`tauri signer sign`, as a
# release is signed) using the test builds' private key (scripts/lib/update-test-key.sh), and
# the shell's own test verifies it with the key the build carries (and refuses it changed).
set -euo pipefail
cd "$(dirname "$0")/../.."
export PATH="$HOME/.cargo/bin:$PATH"
source scripts/lib/update-test-key.sh
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
head -c 300000 /dev/urandom >"$WORK/inkstone_0.0.0_amd64.AppImage"
ui/node_modules/.bin/tauri signer sign -f "$INKSTONE_UPDATE_TEST_KEY" \
  -p "$INKSTONE_UPDATE_TEST_KEY_PASSWORD" "$WORK/inkstone_0.0.0_amd64.AppImage" >/dev/null
export INKSTONE_UPDATE_KEY_CHECK="$WORK/inkstone_0.0.0_amd64.AppImage"
TEST=commands::updates::tests::the_built_in_update_key_verifies_what_the_test_key_signs
ran=0
for bin in $(scripts/lib/built.sh src-tauri tests); do
  out=$("$bin" --exact "$TEST" 2>&1) || { echo "$out" >&2; exit 1; }
  grep -q "test result: ok. 1 passed" <<<"$out" && ran=1
done
[ "$ran" = 1 ] || { echo "06-update-key: $TEST did not run" >&2; exit 1; }
echo "06-update-key: the built-in public key verifies what the test signing key signs"
