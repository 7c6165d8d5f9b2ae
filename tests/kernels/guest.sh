#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Inside a kernel of the matrix (or on the host with --probe-only): which
# eBPF programs load, then the kernel-dependent tests of an existing build.
#   tests/kernels/guest.sh BUILDDIR [--probe-only] [TEST...]
# Last line: "kernel K: programs N of M, P passed, F failed, S skipped, T s".
set -uo pipefail
build=${1:?usage: guest.sh BUILDDIR [--probe-only] [TEST...]}
shift
probe_only=0
if [ "${1:-}" = --probe-only ]; then probe_only=1; shift; fi
start=$(date +%s)
kernel=$(uname -r)
echo "== $kernel, cgroup $(stat -fc %T /sys/fs/cgroup), $(nproc) CPUs"

# Every program, the optional rss_stat hook included.
db=$(mktemp -d)/probe.db
MEMWATCH_BPF_RSS_STAT=1 timeout 30 "$build/daemon/memwatchd" --foreground --db "$db" \
  --interval 1 >"$db.log" 2>&1 &
dpid=$!
for _ in $(seq 60); do
  [ -s "$db" ] && [ -n "$(sqlite3 "$db" "SELECT value FROM meta WHERE key = 'bpf'" 2>/dev/null)" ] && break
  sleep 0.5
done
kill "$dpid" 2>/dev/null; wait "$dpid" 2>/dev/null
on=$(sqlite3 "$db" "SELECT value FROM meta WHERE key = 'bpf'" 2>/dev/null)
missing=$(sqlite3 "$db" "SELECT value FROM meta WHERE key = 'bpf_missing'" 2>/dev/null)
case $on in
  on:*) n_on=$(echo "${on#on: }" | tr ',' '\n' | grep -c .) ;;
  *) n_on=0 ;;
esac
n_missing=$(printf '%s' "$missing" | grep -c . || true)
echo "eBPF $on"
[ -n "$missing" ] && printf '%s\n' "$missing" | sed 's/^/missing: /'
[ "$n_on" -gt 0 ] || sed 's/^/daemon: /' "$db.log" | tail -20

passed=0 failed=0 skipped=0
if [ "$probe_only" -eq 0 ] && [ $# -gt 0 ]; then
  meson test -C "$build" --no-rebuild --num-processes 1 --print-errorlogs "$@"
  counts=$(python3 - "$build/meson-logs/testlog.json" <<'PY'
import json, sys
c = {"OK": 0, "FAIL": 0, "SKIP": 0}
for line in open(sys.argv[1]):
    r = json.loads(line)["result"]
    c["OK" if r in ("OK", "EXPECTEDFAIL") else "SKIP" if r == "SKIP" else "FAIL"] += 1
print(c["OK"], c["FAIL"], c["SKIP"])
PY
  )
  read -r passed failed skipped <<<"$counts"
fi
# A program the kernel refused is a failure of the matrix, not a skip.
[ "$n_missing" -eq 0 ] && [ "$n_on" -gt 0 ] || failed=$((failed + 1))
echo "kernel $kernel: programs $n_on of $((n_on + n_missing)), $passed passed, $failed failed, $skipped skipped, $(($(date +%s) - start)) s"
[ "$failed" -eq 0 ]
