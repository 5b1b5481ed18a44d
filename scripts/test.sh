#!/usr/bin/env bash
# Runs every test of the project. Works on a fresh Debian 12 clone, with or without CI=true.
# Prints how long each stage took at the end.
set -euo pipefail
cd "$(dirname "$0")/.."

TIMES=()
stage() {
  local name=$1 start
  shift
  echo "== $name"
  start=$(date +%s)
  "$@"
  TIMES+=("$(printf '%6ss  %s' "$(($(date +%s) - start))" "$name")")
}
report() {
  echo "== stage times"
  printf '%s\n' "${TIMES[@]}"
}
trap report EXIT

# First: system packages (WebKitGTK for src-tauri, Xvfb and WebKitWebDriver for E2E, mold,
# libfaketime), Node.js, Rust and tauri-driver, each only when missing.
stage "system packages" ./scripts/setup-system.sh
# setup-system.sh installed Rust (with rustfmt and clippy) when it was missing; this shell
# still needs its PATH.
export PATH="$HOME/.cargo/bin:$PATH"
# The app with demo mode's test doubles (the E2E drives it); scripts/lib/built.sh and
# two-years-ahead.sh build with the same features, so nothing is compiled twice.
DEMO="--features inkstone-app/demo"

stage "UI: npm ci (when the lock file changed) and vite build (src-tauri embeds ui/dist)" \
  ./scripts/setup-ui.sh
# One build environment for every cargo call below (scripts/lib/build-env.sh): the public key of
# the test update signing key (made once, outside git), and clippy as the compiler of our own
# crates, so linting costs no build of its own.
stage "build environment: test update key, clippy in the build" source scripts/lib/build-env.sh
stage "cargo fmt --check" cargo fmt --all --check
# Lints every target `cargo clippy --all-targets` did: the libraries, binaries, tests and examples
# the test build compiles, then the benches (compiled, not run: they are scripts/bench.sh's).
# Not `--all-targets`: it builds examples as test harnesses, which `cargo test` then builds again
# as programs (measured: three examples and two crates compiled twice).
build_and_lint() {
  cargo test --workspace $DEMO --no-run
  cargo test --workspace --benches $DEMO --no-run
}
stage "build and lint every target, warnings denied (clippy-driver)" build_and_lint
stage "cargo test" cargo test --workspace $DEMO
stage "the time-judging crates again, two years ahead" ./scripts/two-years-ahead.sh
ui_tests() { (cd ui && npm run --silent typecheck && npx --no-install vitest run); }
stage "UI: type-check (vue-tsc) and unit tests (Vitest)" ui_tests

# Extra checks (Python cross-checks, PostgreSQL, keychain, E2E) live in scripts/checks/.
for check in scripts/checks/*.sh; do
  [ -x "$check" ] || continue
  stage "$check" "$check"
done
echo "== all tests passed"
