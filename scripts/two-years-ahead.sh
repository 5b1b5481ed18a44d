#!/usr/bin/env bash
# The tests of the crates that judge time (membership ends, bonus expiry, order expiry), run
# again with the system clock two years ahead (libfaketime). Every business rule takes its
# clock from outside, so these pass on any day; a test that quietly reads the real clock
# fails here today instead of on some future New Year's Day.
set -euo pipefail
cd "$(dirname "$0")/.."
LIB=$(ls /usr/lib/*/faketime/libfaketime.so.1 2>/dev/null | head -n1 || true)
if [ -z "$LIB" ]; then
  echo "two-years-ahead: libfaketime is missing (scripts/setup-system.sh installs 'faketime')" >&2
  exit 1
fi
# The test binaries `cargo test --workspace` built (the same features, so nothing is rebuilt),
# built with the real clock (cargo compares file times); only they run shifted.
CRATES="core studio desktop shop"  # folders under crates/
source scripts/lib/build-env.sh
cargo test -q --workspace --features inkstone-app/demo --no-run --message-format=json 2>/dev/null |
  CRATES="$CRATES" python3 -c '
import json, os, sys
wanted = set(os.environ["CRATES"].split())
for line in sys.stdin:
    try:
        m = json.loads(line)
    except ValueError:
        continue
    if (m.get("reason") == "compiler-artifact" and m.get("profile", {}).get("test")
            and m.get("executable")
            and os.path.basename(os.path.dirname(m["manifest_path"])) in wanted):
        print(os.path.dirname(m["manifest_path"]) + "\t" + m["executable"])
' > target/two-years-ahead.list
ahead=$(date -u -d '+730 days' '+%Y-%m-%d')
echo "two-years-ahead: the system clock says $ahead for $(wc -l < target/two-years-ahead.list) test binaries"
status=0
while IFS=$'\t' read -r dir exe; do
  echo "-- $(basename "$exe")"
  # Monotonic time stays real: timers and timeouts are not what is being tested.
  if ! (cd "$dir" && FAKETIME="+730d" DONT_FAKE_MONOTONIC=1 LD_PRELOAD="$LIB" "$exe" -q); then
    status=1
  fi
done < target/two-years-ahead.list
exit $status
