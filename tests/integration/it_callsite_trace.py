#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""memwatch trace: exact allocator counts on one process, a clean detach.

malloc_count calls malloc and free N times for each "run N" line and prints
its totals; the trace's counts must match them within 5 %. Afterwards no
probe may remain: uprobe_events unchanged (perf uprobes never register
there), no perf event fds held, the target unaffected; the trace stores its
counts as an event when given a database."""
import json
import os
import subprocess
import time

from mwtest import (MEMWATCH, check, db_query, run, skip, spawn, start_daemon, stop, tmpdir,
                    WORKLOADS)

UPROBE_EVENTS = "/sys/kernel/tracing/uprobe_events"


def read_uprobe_events():
    try:
        with open(UPROBE_EVENTS) as f:
            return f.read()
    except OSError:
        return None


def perf_fds(pid):
    n = 0
    try:
        for fd in os.listdir(f"/proc/{pid}/fd"):
            try:
                if os.readlink(f"/proc/{pid}/fd/{fd}") == "anon_inode:[perf_event]":
                    n += 1
            except OSError:
                pass
    except OSError:
        return None
    return n


def start_counter():
    w = spawn([os.path.join(WORKLOADS, "malloc_count")], stdin=subprocess.PIPE,
              stdout=subprocess.PIPE, text=True, bufsize=1)
    line = w.stdout.readline()
    assert line.startswith("ready "), line
    return w


def burst(w, n):
    w.stdin.write(f"run {n}\n")
    w.stdin.flush()
    line = w.stdout.readline().split()
    return int(line[2]), int(line[4])  # done mallocs M frees F


def test_counts_and_clean_detach():
    if os.geteuid() != 0:
        skip("uprobes and syscall tracepoints need root")
    d = tmpdir()
    db = os.path.join(d, "mw.db")
    # A database with the process in it (a short daemon run), so the trace can store its counts.
    w = start_counter()
    daemon = start_daemon(db, interval=0.3, wait_ticks=3)
    stop(daemon)
    before_events = read_uprobe_events()
    base_m, base_f = burst(w, 0)
    t = spawn([MEMWATCH, "trace", str(w.pid), "--for", "10s", "--json", "--db", db],
              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    seen_attached = False
    cost_shown = False
    for _ in range(50):
        line = t.stderr.readline()
        if not line:
            break
        cost_shown |= "cost while attached" in line
        if "attached" in line and "hooks" in line:
            seen_attached = True
            break
    check(cost_shown, "the cost is shown before attaching")
    check(seen_attached, "trace attached")
    held = perf_fds(t.pid)
    check(held and held > 0, f"trace holds perf event fds while attached ({held})")
    m = f = 0
    for _ in range(3):
        m, f = burst(w, 100000)
    want_m, want_f = m - base_m, f - base_f
    out, err = t.communicate(timeout=60)
    check(t.returncode == 0, f"trace exit {t.returncode}: {err[-500:]}")
    rep = json.loads(out)
    got_m, got_f = rep["counts"].get("malloc", 0), rep["counts"].get("free", 0)
    print(f"workload: {want_m} mallocs, {want_f} frees; trace: {got_m} mallocs, {got_f} frees")
    check(abs(got_m - want_m) <= 0.05 * want_m, f"malloc within 5 %: {got_m} vs {want_m}")
    check(abs(got_f - want_f) <= 0.05 * want_f, f"free within 5 %: {got_f} vs {want_f}")
    check(rep["ended"] == "time is up" and 9.5 <= rep["seconds"] <= 12, f"ran ~10 s: {rep}")
    check("detached" in err, "says it detached")
    check(read_uprobe_events() == before_events, "uprobe_events unchanged")
    check(perf_fds(t.pid) is None, "trace process gone with its fds")
    # The target goes on, unprobed: its own counts continue exactly.
    m2, f2 = burst(w, 1000)
    check(m2 - m == 1000 and f2 - f == 1000, "target runs on after detach")
    rows = db_query(db, "SELECT detail FROM events WHERE kind = 'trace' AND pid = ?", (w.pid,))
    check(len(rows) == 1, f"trace stored one event ({rows})")
    if rows:
        detail = json.loads(rows[0][0])
        check(detail["counts"]["malloc"] == got_m, "stored counts are the printed ones")
    w.stdin.close()
    w.wait(timeout=5)


def test_target_exit_and_errors():
    if os.geteuid() != 0:
        skip("uprobes and syscall tracepoints need root")
    w = start_counter()
    t = spawn([MEMWATCH, "trace", str(w.pid), "--for", "60s"], stdout=subprocess.PIPE,
              stderr=subprocess.PIPE, text=True)
    for _ in range(50):
        line = t.stderr.readline()
        if not line or "attached" in line and "hooks" in line:
            break
    burst(w, 10)
    w.stdin.close()
    w.wait(timeout=5)
    t0 = time.monotonic()
    out, _ = t.communicate(timeout=30)
    check(time.monotonic() - t0 < 10, "trace ends when the target exits")
    check("the process exited" in out, f"says why it ended: {out!r}")
    r = subprocess.run([MEMWATCH, "trace", "12abc"], capture_output=True, text=True)
    check(r.returncode == 2, f"bad pid is a usage error ({r.returncode})")
    r = subprocess.run([MEMWATCH, "trace", "4000000", "--for", "1s"], capture_output=True,
                       text=True)
    check(r.returncode == 1 and "no process with pid 4000000" in r.stderr, r.stderr)
    r = subprocess.run([MEMWATCH, "trace", "1", "--for", "2h"], capture_output=True, text=True)
    check(r.returncode == 2 and "--for" in r.stderr, r.stderr)


if __name__ == "__main__":
    run([test_counts_and_clean_detach, test_target_exit_and_errors])
