#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Heap call sites. heap_leak (built -O2 -fomit-frame-pointer) leaks from
leak_records() (called by handle_request()): one block above the mmap
threshold (an mmap: memwatchd's always-on call sites, outstanding) and 64
small blocks (brk growth: call sites from `memwatch trace`'s sampled malloc
uprobe, by calls and bytes allocated); scratch_buffers() mallocs and frees
the same sizes."""
import json
import os
import subprocess
import time

from mwtest import (MEMWATCH, check, cli_json, db_scalar, run, skip, start_daemon, start_workload,
                    stop, tmpdir)


def names(frames):
    return [f.split("+")[0] for f in frames]


def test_big_blocks_outstanding_by_call_site():
    if os.geteuid() != 0:
        skip("perf_event_open on tracepoints system-wide needs root")
    d = tmpdir()
    db = os.path.join(d, "mw.db")
    env = dict(os.environ, MEMWATCH_CALLSITE_RECONCILE="1", MEMWATCH_CALLSITE_RATE="100",
               MEMWATCH_CALLSITE_BURST="100")
    daemon = start_daemon(db, interval=0.5, wait_ticks=1, env=env)
    w = start_workload("heap_leak", "--rate", 5, "--for", 60)
    time.sleep(6)
    rep = cli_json("callsites", w.pid, "--db", db)
    sites = rep["callsites"]["sites"]
    check(len(sites) >= 1, f"outstanding sites: {sites}")
    if sites:
        top = names(sites[0]["frames"])
        print("top site:", sites[0]["frames"])
        check("leak_records" in top and "handle_request" in top,
              f"top site goes through leak_records <- handle_request: {top}")
        check(top.index("handle_request") == top.index("leak_records") + 1
              if "leak_records" in top and "handle_request" in top else False,
              "handle_request is leak_records' caller")
        check(any(n in top for n in ("malloc", "__libc_malloc")), f"through malloc: {top}")
        check(sites[0]["count"] >= 8 and sites[0]["bytes"] == sites[0]["count"] * (512 * 1024 + 4096),
              f"~5 big blocks a second outstanding: {sites[0]['count']} / {sites[0]['bytes']}")
    lost = db_scalar(db, "SELECT lost FROM callsite_counters WHERE proc IS NULL"
                         " ORDER BY tick DESC LIMIT 1") or 0
    print("kernel-dropped samples (machine-wide):", lost)
    leaked = sites[0]["count"] if sites else 0
    for s in sites:
        if "scratch_buffers" in names(s["frames"]):
            # Only a dropped sample (another process storming the shared rings) can hide
            # that a freed block's address was reused.
            check(lost and s["count"] < leaked,
                  f"the freeing path is not outstanding: {s['frames']} x{s['count']}"
                  f" ({lost} lost)")
    stop(w)
    stop(daemon)


def test_small_blocks_via_trace():
    if os.geteuid() != 0:
        skip("uprobes need root")
    w = start_workload("heap_leak", "--rate", 10, "--for", 60)
    r = subprocess.run([MEMWATCH, "trace", str(w.pid), "--for", "4s", "--json",
                        "--db", os.path.join(tmpdir(), "none.db")],
                       capture_output=True, text=True, timeout=60)
    check(r.returncode == 0, f"trace ran: {r.returncode} {r.stderr}")
    out = json.loads(r.stdout)
    sites = out["alloc_sites"]
    print("alloc sites:", json.dumps(sites[:3], indent=1))
    check(out["malloc_samples"] >= 20, f"enough malloc samples ({out['malloc_samples']})")
    by_calls = sorted(sites, key=lambda s: -s["calls"])
    check(by_calls and names(by_calls[0]["frames"])[:2] == ["leak_records", "handle_request"],
          f"most calls: leak_records <- handle_request: {by_calls[:1]}")
    if by_calls:
        share = by_calls[0]["calls"] / max(1, out["counts"]["malloc"])
        check(share > 0.8, f"64 of every 66 mallocs come from leak_records' loop ({share:.2f})")
    stop(w)


if __name__ == "__main__":
    run([test_big_blocks_outstanding_by_call_site, test_small_blocks_via_trace])
