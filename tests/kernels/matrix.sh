#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The kernel matrix: the eBPF and cgroup tests of BUILDDIR under each
# Debian kernel in QEMU (tests/kernels/boot.sh), and the programs probe on
# this host's kernel (whose tests the main suite runs).
#   tests/kernels/matrix.sh BUILDDIR [KVER...]
# Exits 0 when every kernel passed, 77 when no guest can run here.
set -uo pipefail
cd "$(dirname "$0")/../.."
build=$(realpath "${1:?usage: matrix.sh BUILDDIR [KVER...]}")
shift
kernels=("$@")
[ ${#kernels[@]} -gt 0 ] || kernels=(6.1.0-47-amd64 6.12.107+deb12-amd64)
# What depends on the kernel: the programs, their events, call-site
# snapshots, OOM kills, and cgroup limits (v2 in the guests).
tests=(bpf bpf_faults bpf_events bpf_nopriv bpf_missing callsite_heap callsite_mmap callsite_ratelimit
  replay_limits
  hypotheses)

rows=() rc=0 ran=0
host=$(tests/kernels/guest.sh "$build" --probe-only | tail -1)
rows+=("${host/kernel /host }")
for k in "${kernels[@]}"; do
  out=$(mktemp) retried=
  for attempt in 1 2; do
    MW_KTIMEOUT=${MW_KTIMEOUT:-900} tests/kernels/boot.sh "$k" \
      "tests/kernels/guest.sh $(printf %q "$build") ${tests[*]}" 2>&1 | tee "$out"
    r=${PIPESTATUS[0]}
    # A guest that ran out of time (124) or never booted (125) gets one more
    # boot: TCG on a loaded host has stalled a guest whole (CI, 2026-12-03)
    # and oopsed on an int3 in a static key being patched while 6.12 booted
    # (CI, 2026-12-06), while a failed test fails at once. The row says so,
    # and the first console is printed above.
    { [ "$r" -eq 124 ] || [ "$r" -eq 125 ]; } && [ "$attempt" -eq 1 ] || break
    echo "== $k: the guest ran out of time or never booted (rc $r); booting it once more"
    retried=" (second boot: the first ran out of time or never booted)"
  done
  line=$(grep -E '^kernel .*: programs' "$out" | tail -1)
  [ -z "$line" ] || line="$line$retried"
  rm -f "$out"
  if [ "$r" -eq 77 ]; then
    rows+=("kernel $k: skipped (QEMU cannot run a guest here)")
    continue
  fi
  ran=$((ran + 1))
  [ -n "$line" ] || line="kernel $k: no result (boot.sh exit $r)"
  rows+=("$line")
  [ "$r" -eq 0 ] || rc=1
done
echo "== kernel matrix"
printf '%s\n' "${rows[@]}"
[ "$ran" -gt 0 ] || exit 77
exit "$rc"
