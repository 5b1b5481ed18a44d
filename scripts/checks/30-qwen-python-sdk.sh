#!/usr/bin/env bash
# The official dashscope Python SDK against crates/fake-dashscope.
set -euo pipefail
cd "$(dirname "$0")/../.."
VENV=target/venv-dashscope
[ -x "$VENV/bin/python" ] || python3 -m venv "$VENV"
"$VENV/bin/python" -c 'import dashscope' 2>/dev/null || "$VENV/bin/pip" install -q dashscope
BIN=$(scripts/lib/built.sh fake-dashscope bin fake-dashscope)
KEY=sk-inkstone-sdk-check
OUT=$(mktemp)
"$BIN" --port 0 --key "$KEY" >"$OUT" &
PID=$!
trap 'kill $PID 2>/dev/null || true; rm -f "$OUT"' EXIT
for _ in $(seq 1 50); do [ -s "$OUT" ] && break; sleep 0.1; done
BASE=$(head -n1 "$OUT")
[ -n "$BASE" ] || { echo "fake-dashscope did not start" >&2; exit 1; }
"$VENV/bin/python" scripts/checks/qwen_sdk_check.py "$BASE" "$KEY"
