#!/usr/bin/env bash
# The payment endpoint's tests again, on a real PostgreSQL: a throwaway
# cluster under target/, on a free port, owned by an unprivileged user.
set -euo pipefail
cd "$(dirname "$0")/../.."
SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
PGBIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n1 || true)
if [ -z "$PGBIN" ] || [ ! -x "$PGBIN/initdb" ]; then
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends postgresql >/dev/null
  PGBIN=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n1)
fi
ROOT="$PWD/target/pg-check"
rm -rf "$ROOT"; mkdir -p "$ROOT"
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
run_pg() {
  if [ "$(id -u)" -eq 0 ]; then
    id postgres >/dev/null 2>&1 || useradd --system --no-create-home postgres
    chown -R postgres "$ROOT"
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}
run_pg "$PGBIN/initdb" -D "$ROOT/data" -U inkstone --auth=trust -E UTF8 >/dev/null
run_pg "$PGBIN/pg_ctl" -D "$ROOT/data" -l "$ROOT/log" -o "-p $PORT -k $ROOT -c listen_addresses=127.0.0.1" -w start >/dev/null
trap 'run_pg "$PGBIN/pg_ctl" -D "$ROOT/data" -m fast stop >/dev/null 2>&1 || true' EXIT
run_pg "$PGBIN/createdb" -h 127.0.0.1 -p "$PORT" -U inkstone inkstone
export DATABASE_URL="postgres://inkstone@127.0.0.1:$PORT/inkstone"
echo "PostgreSQL $("$PGBIN/postgres" --version | awk '{print $3}') on port $PORT"
# The binaries the workspace test stage built: `cargo test -p` would rebuild with other features.
# tests/instances.rs starts two inkstone-server processes on this PostgreSQL (LISTEN/NOTIFY).
status=0
for bin in $(scripts/lib/built.sh server tests); do
  (cd crates/server && "$bin" -q) || status=1
done
exit $status
