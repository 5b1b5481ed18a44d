# shellcheck shell=bash
# Sourced, never run: the one build environment of the test command. scripts/test.sh sources it
# before anything is built, and so do scripts/lib/built.sh and scripts/two-years-ahead.sh, so
# every cargo call of a test run agrees with the others and nothing is compiled twice.
#
# 1. The update signing key of test builds (scripts/lib/update-test-key.sh).
# 2. Clippy runs inside the test build (issue 18, item 4). `cargo clippy` is rustc with lints
#    (clippy-driver as cargo's workspace wrapper) but in check mode, so a separate clippy stage
#    type-checked every dependency a second time: 7 of the 20 minutes of a clean run. Here the
#    same driver is the workspace wrapper of the real test build: dependencies are compiled by
#    plain rustc as before (a workspace wrapper touches only this workspace's crates), our crates
#    are linted while they compile, and a warning fails the build as `cargo clippy -- -D
#    warnings` did. CLIPPY_ARGS is clippy-driver's own argument channel (what `cargo clippy --`
#    passes); cargo records the wrapper in each crate's fingerprint, so a build with it and one
#    without do not share our crates' artifacts: source this file rather than building by hand.
#    INKSTONE_NO_LINT=1 leaves the wrapper out (then nothing here lints).
_inkstone_lib="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
source "$_inkstone_lib/update-test-key.sh"
if [ "${INKSTONE_NO_LINT:-0}" != "1" ]; then
  # The toolchain's own driver (what `cargo clippy` uses), not rustup's proxy: one process less
  # for each of a few hundred compiler runs, and the same path on every call.
  RUSTC_WORKSPACE_WRAPPER="$(rustup which clippy-driver 2>/dev/null || command -v clippy-driver)"
  export RUSTC_WORKSPACE_WRAPPER
  export CLIPPY_ARGS="-D__CLIPPY_HACKERY__warnings__CLIPPY_HACKERY__"
fi
unset _inkstone_lib
