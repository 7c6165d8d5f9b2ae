#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Build and run every test. Usage: scripts/test.sh [BUILDDIR [meson setup options...]]
# Prints "N passed, N failed, N skipped" last; exits non-zero if anything failed.
set -uo pipefail
cd "$(dirname "$0")/.."
builddir=${1:-build}
shift || true

scripts/install-deps.sh || exit 1
if [ ! -f "$builddir/build.ninja" ]; then
  meson setup "$builddir" "$@" >/dev/null || { echo "meson setup failed"; echo "0 passed, 1 failed"; exit 1; }
fi
if ! ninja -C "$builddir" >"$builddir/build.log" 2>&1; then
  tail -40 "$builddir/build.log"
  echo "0 passed, 1 failed"
  exit 1
fi
# MEMWATCH_NO_SUITES="kernels ...": suites not to run (CI's sanitizer build
# leaves out the kernel matrix, which the plain build has run).
no_suites=()
for s in ${MEMWATCH_NO_SUITES:-}; do no_suites+=(--no-suite "$s"); done
meson test -C "$builddir" --print-errorlogs --num-processes 1 "${no_suites[@]}"
rc=$?
logs=("$builddir/meson-logs/testlog.json")
# Fuzzing (docs/fuzzing.md): a clang build with -Dfuzz=true runs each
# tests/fuzz target for MW_FUZZ_SECONDS (20 s). MEMWATCH_NO_FUZZ=1 leaves it
# out (CI's sanitizer pass: the fuzzers carry ASan and UBSan already).
fuzz_broken=0
if [ "${MEMWATCH_NO_FUZZ:-0}" != 1 ]; then
  fuzzdir=build-fuzz
  if [ ! -f "$fuzzdir/build.ninja" ] &&
     ! CC=clang meson setup "$fuzzdir" -Dfuzz=true -Db_lundef=false >/dev/null; then
    echo "meson setup $fuzzdir (clang, -Dfuzz=true) failed"
    fuzz_broken=1
  elif ! ninja -C "$fuzzdir" >"$fuzzdir/build.log" 2>&1; then
    tail -40 "$fuzzdir/build.log"
    fuzz_broken=1
  else
    meson test -C "$fuzzdir" --print-errorlogs --num-processes 1 --suite fuzz || rc=1
    logs+=("$fuzzdir/meson-logs/testlog.json")
  fi
  [ "$fuzz_broken" -eq 0 ] || rc=1
fi
python3 - "$fuzz_broken" "${logs[@]}" <<'PY'
import json, sys
counts = {"OK": 0, "FAIL": int(sys.argv[1]), "SKIP": 0}
for log in sys.argv[2:]:
    for line in open(log):
        r = json.loads(line)
        res = r.get("result", "")
        if res in ("OK", "EXPECTEDFAIL"):
            counts["OK"] += 1
        elif res == "SKIP":
            counts["SKIP"] += 1
        else:
            counts["FAIL"] += 1
print(f"{counts['OK']} passed, {counts['FAIL']} failed, {counts['SKIP']} skipped")
PY
exit $rc
