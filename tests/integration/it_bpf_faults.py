#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""eBPF issue, acceptance 1 through the daemon and the store: faults by
region and new mappings of real workloads land in bpf_proc_samples, within
5 % of what the workloads did and of /proc/PID/stat's minflt."""
import os

from bpftest import (go, max_tick, minflt, proc_id, require_bpf_on, require_root,
                     start_interactive, wait_more_ticks)
from mwtest import (check, cli, cli_json, daemon_log, db_query, run, start_daemon, stop, tmpdir,
                    wait_for_ticks)

PAGES = 1000
MAPS, MAP_SIZE = 300, 3 * 4096 + 100


def sums(db, proc, after_tick):
    return db_query(db, """SELECT total(faults_heap), total(faults_stack), total(faults_mmap),
                                  total(mmaps_anon), total(mmap_bytes_anon), total(mmaps_file)
                           FROM bpf_proc_samples WHERE proc = ? AND tick > ?""",
                    (proc, after_tick))[0]


def test_fault_regions_and_mappings():
    require_root()
    d = tmpdir()
    db = os.path.join(d, "mw.db")
    daemon = start_daemon(db, interval=0.5)
    require_bpf_on(db, daemon_log(db))

    w = start_interactive("fault_regions", "--pages", PAGES, "--for", 120)
    proc = proc_id(db, w.pid, daemon)
    wait_more_ticks(db, 2, daemon)
    t0 = max_tick(db)
    f0 = minflt(w.pid)
    go(w)
    f1 = minflt(w.pid)
    wait_more_ticks(db, 3, daemon)
    heap, stack, mmap, _, _, _ = sums(db, proc, t0)
    print(f"fault_regions via the store: heap {heap:.0f} stack {stack:.0f} mmap {mmap:.0f}"
          f" (expected {PAGES} each); total {heap + stack + mmap:.0f}, minflt delta {f1 - f0}")
    for name, got in (("heap", heap), ("stack", stack), ("mmap", mmap)):
        check(abs(got - PAGES) <= 0.05 * PAGES, f"{name} faults {got:.0f} within 5% of {PAGES}")
    check(abs(heap + stack + mmap - (f1 - f0)) <= 0.05 * (f1 - f0),
          f"total {heap + stack + mmap:.0f} within 5% of the minflt delta {f1 - f0}")
    # RSS movement: 3 x PAGES pages touched, recorded every ~1 MiB (the default threshold).
    moves = db_query(db, "SELECT rss_anon FROM bpf_rss_moves WHERE proc = ? ORDER BY t_ms, id",
                     (proc,))
    grown = 3 * PAGES * 4096
    print(f"rss moves for fault_regions: {len(moves)}, last anon {moves[-1][0] if moves else None}")
    check(len(moves) >= grown // (2 << 20), f"at least one RSS record per 2 MiB of growth, got {len(moves)}")
    check(moves and moves[-1][0] >= grown - (2 << 20), "the last RSS record shows the growth")
    check(all(b[0] >= a[0] for a, b in zip(moves, moves[1:])), "anon RSS records never fall while growing")
    w.stdin.close()
    stop(w)

    m = start_interactive("mmap_many", "--count", MAPS, "--size", MAP_SIZE, "--for", 120)
    proc = proc_id(db, m.pid, daemon)
    wait_more_ticks(db, 2, daemon)
    t0 = max_tick(db)
    go(m)
    wait_more_ticks(db, 3, daemon)
    _, _, _, n, nbytes, nfile = sums(db, proc, t0)
    print(f"mmap_many via the store: {n:.0f} anon mappings, {nbytes:.0f} bytes, {nfile:.0f} file"
          f" (expected {MAPS}, {MAPS * MAP_SIZE})")
    check(n == MAPS, f"{MAPS} new anonymous mappings recorded, got {n:.0f}")
    check(nbytes == MAPS * MAP_SIZE, f"{MAPS * MAP_SIZE} bytes recorded, got {nbytes:.0f}")
    check(nfile == 0, f"no file mappings, got {nfile:.0f}")
    m.stdin.close()
    stop(m)

    # The programs' kernel-side cost is visible in status (statistics sampled one tick in 60,
    # the first at tick 12).
    wait_for_ticks(db, 14, daemon)
    st = cli_json("status", "--db", db)
    print(f"status: bpf_run_cnt {st['bpf_run_cnt']}, bpf_run_time_ns {st['bpf_run_time_ns']},"
          f" window {st['bpf_stats_window_ns']}")
    check(st["bpf"].startswith("on: page_fault_user (tp_btf)"), f"status says eBPF is on: {st['bpf']!r}")
    check(st["bpf_run_cnt"] > 0 and st["bpf_run_time_ns"] > 0, "run counts and times recorded")
    check(st["bpf_stats_window_ns"] > 0, "the sampling window is recorded")
    check(st["bpf_events_dropped"] == 0, "no events dropped")
    rc, out, _ = cli("status", "--db", db)
    check("eBPF cost:" in out and "% of one CPU" in out, f"status text shows the cost:\n{out}")
    rc, _ = stop(daemon)
    check(rc == 0, f"memwatchd exits 0 (got {rc})")


if __name__ == "__main__":
    run([test_fault_regions_and_mappings])
