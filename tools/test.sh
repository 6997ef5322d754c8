#!/usr/bin/env bash
# Installs what is missing, builds with warnings as errors, runs every test
# suite, and ends with the plain line "N passed, N failed, N skipped" counted
# from meson's test log (so a run with zero tests cannot pass silently).
set -uo pipefail
cd "$(dirname "$0")/.."
bash tools/install-deps.sh || exit 1
bash tools/build.sh || exit 1
build_dir=${BUILD_DIR:-build}
meson test -C "$build_dir" --print-errorlogs --num-processes 2 "$@"
rc=$?
python3 - "$build_dir/meson-logs/testlog.json" <<'PY'
import json, sys
passed = failed = skipped = 0
with open(sys.argv[1]) as f:
    for line in f:
        if not line.strip():
            continue
        result = json.loads(line)["result"]
        if result in ("OK", "EXPECTEDFAIL"):
            passed += 1
        elif result == "SKIP":
            skipped += 1
        else:
            failed += 1
print(f"{passed} passed, {failed} failed, {skipped} skipped")
sys.exit(1 if failed or passed == 0 else 0)
PY
py=$?
[ $rc -eq 0 ] && [ $py -eq 0 ]
