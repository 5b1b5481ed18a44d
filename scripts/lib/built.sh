#!/usr/bin/env bash
# Prints the executables that `cargo test --workspace` built, one per line, so the checks run
# exactly those instead of asking cargo for `-p CRATE` builds: a build of one package resolves
# features for that package alone, which differs from the workspace's and rebuilds dozens of
# crates (minutes each on two cores). Nothing is built here that the test stage did not build.
#
#   scripts/lib/built.sh CRATE_DIR tests          every test binary of crates/CRATE_DIR
#   scripts/lib/built.sh CRATE_DIR test NAME      its integration test NAME
#   scripts/lib/built.sh CRATE_DIR example NAME   its example NAME
#   scripts/lib/built.sh CRATE_DIR bin NAME       its binary NAME
set -euo pipefail
cd "$(dirname "$0")/../.."
# The test stage's build environment (scripts/test.sh): the same here, or cargo would rebuild
# our crates.
source scripts/lib/build-env.sh
cargo test -q --workspace --features inkstone-app/demo --no-run --message-format=json 2>/dev/null |
  python3 -c '
import json, os, sys
crate, what = sys.argv[1], sys.argv[2]
name = sys.argv[3] if len(sys.argv) > 3 else None
found = []
for line in sys.stdin:
    try:
        m = json.loads(line)
    except ValueError:
        continue
    if m.get("reason") != "compiler-artifact" or not m.get("executable"):
        continue
    if os.path.basename(os.path.dirname(m["manifest_path"])) != crate:
        continue
    kinds, target, test = m["target"]["kind"], m["target"]["name"], m["profile"]["test"]
    if what == "tests" and test:
        found.append(m["executable"])
    elif what == "test" and test and "test" in kinds and target == name:
        found.append(m["executable"])
    elif what == "example" and "example" in kinds and target == name and not test:
        found.append(m["executable"])
    elif what == "bin" and "bin" in kinds and target == name and not test:
        found.append(m["executable"])
if not found:
    sys.exit("built.sh: cargo test --workspace built no %s %s in crates/%s" % (what, name or "", crate))
print("\n".join(sorted(set(found))))
' "$@"
