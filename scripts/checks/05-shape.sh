#!/usr/bin/env bash
# The house's shape, checked by reading it (issue 16):
# - the app as the installer builds it (default features) links no test double: neither the
#   fake DashScope nor the payment endpoint's server crate (the embedded sandbox); nor the
#   providers' protocol code (inkstone-pay: RSA, WeChat Pay, Alipay): receipts are their own
#   crate;
# - Tauri commands go through crates/desktop: none imports inkstone_core or inkstone_shop;
# - every command is instrumented (its error is logged).
set -euo pipefail
cd "$(dirname "$0")/../.."
export PATH="$HOME/.cargo/bin:$PATH"
fail=0
shipped=$(cargo tree -q -p inkstone-app -e normal --prefix none --no-dedupe 2>/dev/null | awk '{print $1}' | sort -u)
for double in inkstone-fake-dashscope inkstone-server inkstone-pay; do
  if grep -qx "$double" <<<"$shipped"; then
    echo "05-shape: the installer's build links $double (demo feature or endpoint only)" >&2
    fail=1
  fi
done
demo=$(cargo tree -q -p inkstone-app -e normal --features demo --prefix none 2>/dev/null | awk '{print $1}' | sort -u)
grep -qx inkstone-fake-dashscope <<<"$demo" || { echo "05-shape: the demo build lost its demo model" >&2; fail=1; }
# Comments may name the crates; code may not.
if grep -nE '\binkstone_(core|shop)\b' src-tauri/src/commands/*.rs | grep -vE '^[^:]+:[0-9]+:[[:space:]]*//'; then
  echo "05-shape: a command reaches around crates/desktop (above); add a method to its facade" >&2
  fail=1
fi
# Every command logs its error (the writer's message says the details are in the log).
uninstrumented=$(awk 'FNR==1{cmd=0} /#\[tauri::command\]/{cmd=FNR; next} cmd && /tracing::instrument/{cmd=0} cmd && /fn /{print FILENAME":"FNR": "$0; cmd=0}' src-tauri/src/commands/*.rs)
if [ -n "$uninstrumented" ]; then
  echo "$uninstrumented"
  echo "05-shape: commands above lack #[tracing::instrument(…, err)]" >&2
  fail=1
fi
[ "$fail" = 0 ] && echo "05-shape: ok"
exit "$fail"
