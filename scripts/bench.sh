#!/usr/bin/env bash
# The project's figures, printed as `| area | measurement | value | target/note |` tables.
# Nothing here asserts a time: benches report, tests decide. Not part of scripts/test.sh.
#
#   ./scripts/bench.sh            everything (crate benches, then the real app under Xvfb)
#   QUICK=1 ./scripts/bench.sh    the real app with 3 cold starts instead of 5, 10 generations
#                                 instead of 50 and one memory session instead of 3 (crate
#                                 benches have fixed sizes)
#   BENCH_MEMORY_SESSIONS=3       memory sessions (fresh app and profile each); the memory
#                                 figures next to their targets are the median session's
#   BENCH_DEBUG=1                 part 2 also on the debug build (a second value column)
#   BENCH_PORT=4446               tauri-driver's port (its native port is the next one)
#   BENCH_PARTS=crates|app|workspace   only one part
#   BENCH_ONLY=floor|startup|memory|history|smoothness   sections of part 2 (bench_app.rs), comma-separated
#   BENCH_NO_POSTGRES=1           skip the PostgreSQL rows of the server bench
#
# Part 1: `cargo bench` of inkstone-core, -qwen, -pay and -server (release builds). The server
#         bench adds PostgreSQL rows when DATABASE_URL is set: a throwaway cluster is started
#         under target/pg-bench as scripts/checks/20-server-postgres.sh does.
# Part 2: the real app as users run it: the RELEASE build (target/release/inkstone-app, UI
#         embedded, with the `demo` feature so the bench can sign in and stream from the demo
#         model; it differs from the installer's build only by those test doubles, which idle
#         until used), driven by tauri-driver on ports 4446/4447 (the E2E suite uses 4444),
#         demo model at 50 tokens/s: crates/e2e/examples/bench_app.rs.
# Part 3: the writing workspace with a 200,000-character document (time to editable,
#         input-to-pixels while typing: keys pressed through XTEST, pixels read from Xvfb's
#         framebuffer file; the autosave's cost), release build, tauri-driver on 4448/4449:
#         crates/e2e/examples/bench_workspace.rs.
# Output is also kept in target/bench/.
set -euo pipefail
cd "$(dirname "$0")/.."

./scripts/setup-system.sh
# setup-system.sh installed Rust (with rustfmt and clippy) when it was missing; this shell
# still needs its PATH.
export PATH="$HOME/.cargo/bin:$PATH"
PARTS="${BENCH_PARTS:-crates app workspace}"
OUT=target/bench
mkdir -p "$OUT"
rm -f "$OUT/crates.txt" "$OUT/app.txt" "$OUT/app-release.txt" "$OUT/app-debug.txt" "$OUT/workspace.txt"
TARGET_DIR="$(cargo metadata --format-version 1 --no-deps | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')"
BENCH_PKGS=(-p inkstone-core -p inkstone-qwen -p inkstone-pay -p inkstone-server)
declare -a TIMES=()
now() { date +%s.%N; }
took() { python3 -c "import sys; print(f'{float(sys.argv[2]) - float(sys.argv[1]):.0f} s')" "$1" "$(now)"; }

echo "== build"
t=$(now)
if [[ " $PARTS " == *" app "* ]]; then
  ./scripts/setup-ui.sh
  cargo build -q --release -p inkstone-app --features demo
  # The floor (issue 18): an empty Tauri 2 window, an example of the app crate; the same
  # features, so it reuses the release build above and only links.
  cargo build -q --release -p inkstone-app --features demo --example empty_window
  [ "${BENCH_DEBUG:-0}" = "1" ] && cargo build -q -p inkstone-app --features demo
  cargo build -q -p inkstone-e2e --example bench_app
fi
if [[ " $PARTS " == *" workspace "* ]]; then
  [[ " $PARTS " == *" app "* ]] || { ./scripts/setup-ui.sh; cargo build -q --release -p inkstone-app --features demo; }
  cargo build -q -p inkstone-e2e --example bench_workspace
fi
if [[ " $PARTS " == *" crates "* ]]; then
  cargo bench -q --no-run "${BENCH_PKGS[@]}"
fi
TIMES+=("build (incremental when nothing changed)|$(took "$t")")

# ------------------------------------------------------------------ part 1: crate benches
PG_PID_DIR=""
stop_pg() {
  if [ -n "$PG_PID_DIR" ]; then
    run_pg "$PGBIN/pg_ctl" -D "$PG_PID_DIR" -m fast stop >/dev/null 2>&1 || true
  fi
}
trap stop_pg EXIT
run_pg() {
  if [ "$(id -u)" -eq 0 ]; then
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}
start_pg() {
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  PGBIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n1 || true)
  if [ -z "$PGBIN" ] || [ ! -x "$PGBIN/initdb" ]; then
    $SUDO apt-get update -qq || return 1
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends postgresql >/dev/null || return 1
    PGBIN=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n1)
  fi
  local root="$PWD/target/pg-bench"
  rm -rf "$root"; mkdir -p "$root"
  local port
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  if [ "$(id -u)" -eq 0 ]; then
    id postgres >/dev/null 2>&1 || useradd --system --no-create-home postgres
    chown -R postgres "$root"
  fi
  run_pg "$PGBIN/initdb" -D "$root/data" -U inkstone --auth=trust -E UTF8 >/dev/null || return 1
  run_pg "$PGBIN/pg_ctl" -D "$root/data" -l "$root/log" -o "-p $port -k $root -c listen_addresses=127.0.0.1" -w start >/dev/null || return 1
  PG_PID_DIR="$root/data"
  run_pg "$PGBIN/createdb" -h 127.0.0.1 -p "$port" -U inkstone inkstone || return 1
  export DATABASE_URL="postgres://inkstone@127.0.0.1:$port/inkstone"
  echo "PostgreSQL $("$PGBIN/postgres" --version | awk '{print $3}') on port $port (target/pg-bench)"
}

if [[ " $PARTS " == *" crates "* ]]; then
  echo
  echo "== part 1: crate benches (release builds)"
  PG_NOTE=""
  if [ "${BENCH_NO_POSTGRES:-0}" = "1" ]; then
    PG_NOTE="PostgreSQL rows skipped: BENCH_NO_POSTGRES=1"
  elif [ -n "${DATABASE_URL:-}" ]; then
    echo "PostgreSQL: using DATABASE_URL from the environment"
  elif ! start_pg; then
    PG_NOTE="PostgreSQL rows skipped: could not install or start a local PostgreSQL"
  fi
  [ -n "$PG_NOTE" ] && { echo "note: $PG_NOTE"; unset DATABASE_URL; }
  : > "$OUT/crates.txt"
  echo "| area | measurement | value | target |"
  echo "| --- | --- | --- | --- |"
  for spec in inkstone-core:ledger inkstone-core:history inkstone-qwen:streaming \
              inkstone-pay:verify inkstone-server:notifications; do
    pkg=${spec%%:*}; bench=${spec##*:}
    t=$(now)
    # All four packages every time (one feature resolution, no rebuild); --bench picks one.
    cargo bench -q "${BENCH_PKGS[@]}" --bench "$bench" \
      2> "$OUT/$bench.stderr" | tee -a "$OUT/crates.txt" \
      || { echo "| $pkg | bench $bench FAILED (see $OUT/$bench.stderr) | - | - |" | tee -a "$OUT/crates.txt"; }
    TIMES+=("cargo bench $pkg --bench $bench|$(took "$t")")
  done
  [ -n "$PG_NOTE" ] && echo "| server | $PG_NOTE | - | - |" | tee -a "$OUT/crates.txt"
  stop_pg; PG_PID_DIR=""
fi

# ------------------------------------------------------------------ part 2: the real app
PORT="${BENCH_PORT:-4446}"
NATIVE_PORT=$((PORT + 1))
# One run of the app bench on the build in $1 (release|debug), its rows into $OUT/app-$1.txt.
app_bench() {
  local build=$1
  echo
  echo "== part 2: the real app, $build build, under Xvfb (tauri-driver :$PORT, native :$NATIVE_PORT)"
  if curl -sf "http://127.0.0.1:$PORT/status" >/dev/null 2>&1; then
    echo "bench: something already listens on :$PORT (another bench run?)" >&2
    exit 1
  fi
  export INKSTONE_APP="$TARGET_DIR/$build/inkstone-app" \
         INKSTONE_DEMO_TOKENS_PER_SECOND=50 INKSTONE_BENCH_DRIVER="http://127.0.0.1:$PORT" \
         BENCH_PORT="$PORT" BENCH_NATIVE_PORT="$NATIVE_PORT"
  local t
  t=$(now)
  # A session bus, as every desktop session has: without one GLib spawns `dbus-launch
  # --autolaunch` three times per app start (~170 ms measured, issue 18), which no user pays.
  local bus=(dbus-run-session --)
  [ "${BENCH_NO_SESSION_BUS:-0}" = "1" ] && bus=()
  xvfb-run -a -s "-screen 0 1400x900x24" "${bus[@]}" bash -c '
    tauri-driver --port "$BENCH_PORT" --native-port "$BENCH_NATIVE_PORT" > "$BENCH_OUT/tauri-driver.log" 2>&1 &
    DRIVER=$!
    trap "kill $DRIVER 2>/dev/null || true" EXIT
    for _ in $(seq 1 50); do curl -sf "http://127.0.0.1:$BENCH_PORT/status" >/dev/null && break; sleep 0.2; done
    "$BENCH_APP_BIN"
  ' 2> "$OUT/app-$build.stderr" | tee "$OUT/app-$build.txt" \
    || { echo "bench: the app bench failed; see $OUT/app-$build.stderr and $OUT/tauri-driver.log" >&2; tail -20 "$OUT/app-$build.stderr" >&2; exit 1; }
  TIMES+=("real app under Xvfb, $build build|$(took "$t")")
}
if [[ " $PARTS " == *" app "* ]]; then
  for tool in xvfb-run dbus-run-session tauri-driver WebKitWebDriver; do
    command -v "$tool" >/dev/null || { echo "bench: $tool is missing (scripts/setup-system.sh installs it)" >&2; exit 1; }
  done
  [ "${QUICK:-0}" = "1" ] && export BENCH_RUNS="${BENCH_RUNS:-3}" BENCH_GENERATIONS="${BENCH_GENERATIONS:-10}" \
    BENCH_MEMORY_SESSIONS="${BENCH_MEMORY_SESSIONS:-1}"
  export BENCH_APP_BIN="$TARGET_DIR/debug/examples/bench_app" BENCH_OUT="$OUT" \
         INKSTONE_FLOOR_APP="$TARGET_DIR/release/examples/empty_window"
  app_bench release
  [ "${BENCH_DEBUG:-0}" = "1" ] && app_bench debug
  # The release rows, with the debug value as a second column when there is one.
  python3 - "$OUT/app-release.txt" "$OUT/app-debug.txt" > "$OUT/app.txt" <<'PY'
import os, sys
def rows(path):
    if not os.path.exists(path):
        return []
    out = []
    for line in open(path, encoding="utf-8"):
        cells = [c.strip() for c in line.strip().strip("|").split(" | ")]
        if line.startswith("| ") and len(cells) == 4 and cells[0] not in ("area", "---"):
            out.append(cells)
    return out
release, debug = rows(sys.argv[1]), {r[1]: r[2] for r in rows(sys.argv[2])}
for area, what, value, note in release:
    if debug:
        print(f"| {area} | {what} | {value} | {debug.get(what, '-')} (debug) | {note} |")
    else:
        print(f"| {area} | {what} | {value} | {note} |")
PY
fi

# ------------------------------------------------------------------ part 3: the workspace
if [[ " $PARTS " == *" workspace "* ]]; then
  echo
  echo "== part 3: the writing workspace, a 200,000-character document (tauri-driver :4448)"
  if curl -sf http://127.0.0.1:4448/status >/dev/null 2>&1; then
    echo "bench: something already listens on :4448 (another bench run?)" >&2
    exit 1
  fi
  # What users run: the release build (as part 2).
  # Xvfb keeps its screen in a file (-fbdir) that the input-to-pixels measurement reads
  # (scripts/lib/typing-latency.py: keys through XTEST, pixels from that file).
  FB_DIR="$(mktemp -d)"
  export INKSTONE_APP="$TARGET_DIR/release/inkstone-app" \
         INKSTONE_BENCH_WORKSPACE_DRIVER=http://127.0.0.1:4448 BENCH_OUT="$OUT" \
         BENCH_WS_BIN="$TARGET_DIR/debug/examples/bench_workspace" \
         INKSTONE_BENCH_FB="$FB_DIR/Xvfb_screen0"
  t=$(now)
  # A session bus, as part 2 has (and every desktop session).
  xvfb-run -a -s "-screen 0 1400x900x24 -fbdir $FB_DIR" dbus-run-session -- bash -c '
    tauri-driver --port 4448 --native-port 4449 > "$BENCH_OUT/tauri-driver-workspace.log" 2>&1 &
    DRIVER=$!
    trap "kill $DRIVER 2>/dev/null || true" EXIT
    for _ in $(seq 1 50); do curl -sf http://127.0.0.1:4448/status >/dev/null && break; sleep 0.2; done
    "$BENCH_WS_BIN"
  ' 2> "$OUT/workspace.stderr" | tee "$OUT/workspace.txt" \
    || { rm -rf "$FB_DIR"; echo "bench: the workspace bench failed; see $OUT/workspace.stderr" >&2; tail -20 "$OUT/workspace.stderr" >&2; exit 1; }
  rm -rf "$FB_DIR"
  TIMES+=("workspace, 200,000 characters, under Xvfb|$(took "$t")")
fi

# ------------------------------------------------------------------ summary
echo
echo "== summary ($(uname -m), $(nproc) cores, $(git rev-parse --short HEAD 2>/dev/null || echo '?'))"
echo "| area | measurement | value | target / note |"
echo "| --- | --- | --- | --- |"
if [ -f "$OUT/crates.txt" ]; then
  grep '^| ' "$OUT/crates.txt" | grep -v -e '^| area |' -e '^| --- |' || true
fi
if [ -f "$OUT/app.txt" ]; then
  # The app rows are the release build's; with BENCH_DEBUG=1 the debug value follows.
  if [ -f "$OUT/app-debug.txt" ]; then
    echo
    echo "| area | measurement | release | debug | target / note |"
    echo "| --- | --- | --- | --- | --- |"
  fi
  cat "$OUT/app.txt"
fi
if [ -f "$OUT/workspace.txt" ]; then
  grep '^| ' "$OUT/workspace.txt" | grep -v -e '^| area |' -e '^| --- |' || true
fi
echo
echo "| step | wall time |"
echo "| --- | --- |"
for x in "${TIMES[@]}"; do echo "| ${x%%|*} | ${x##*|} |"; done
