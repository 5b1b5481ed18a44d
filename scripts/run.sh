#!/usr/bin/env bash
# Runs the app for a newcomer: installs what is missing (system packages, Node, Rust, npm
# packages), builds the UI, and starts Inkstone in demo mode — demo users test_user/test123456
# and admin/admin123456, the bundled demo model when no DashScope key is set, and the sandbox
# payment endpoint inside the app, so buying works in the first minute.
#
#   ./scripts/run.sh                 demo mode (debug build)
#   INKSTONE_DEMO=0 ./scripts/run.sh  your own profiles, no demo users
#   ./scripts/run.sh --data-dir DIR  keep the data somewhere else (any app argument works)
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup-system.sh
export PATH="$HOME/.cargo/bin:$PATH"
./scripts/setup-ui.sh
# Demo mode needs the build with its test doubles (the `demo` feature); without it the app
# is built as the installer builds it.
args=() features=()
if [ "${INKSTONE_DEMO:-1}" = "1" ]; then args+=(--demo); features+=(--features demo); fi
exec cargo run -p inkstone-app "${features[@]}" -- "${args[@]}" "$@"
