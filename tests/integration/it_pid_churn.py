#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Process churn with a small pid_max: pids are reused many times while
memwatchd records every 0.2 s. No stored identity mixes two processes
(each (pid, start) is its own procs row with its own comm, and every one
of them is closed), and the daemon's RSS stays bounded.

pid_max is lowered to 4096 (more when the host runs many processes) and
ALWAYS restored: the machine is shared."""
import os
import random
import shutil
import threading
import time

from mwtest import (MEMWATCHD, check, db_query, run, skip, spawn, start_daemon, stop, tmpdir,
                    wait_for_ticks)

PID_MAX = "/proc/sys/kernel/pid_max"
CHURN_S = 40
NAMES = 40


def rss_kib(pid):
    """(VmRSS, RssAnon) in KiB. Anonymous memory is what a leak in identity
    tracking would grow; file-backed RSS also holds the ELF and debug files
    the call-site unwinder maps for whatever else runs on the host (a QEMU,
    a JVM), which depends on the host, not on the churn."""
    got = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            key, _, rest = line.partition(":")
            if key in ("VmRSS", "RssAnon"):
                got[key] = int(rest.split()[0])
    return got.get("VmRSS", 0), got.get("RssAnon", 0)


def start_ticks(pid):
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            s = f.read()
    except OSError:
        return None
    return int(s[s.rindex(b")") + 2:].split()[19])


def burn(stop_at):
    """Short-lived processes as fast as we can: they move the pid counter round."""
    while time.monotonic() < stop_at:
        try:
            os.waitpid(os.posix_spawn("/bin/true", ["true"], {}), 0)
        except OSError:
            time.sleep(0.01)


def test_churn():
    nprocs = sum(1 for d in os.listdir("/proc") if d.isdigit())
    small = max(4096, 1 << (nprocs * 4).bit_length())
    try:
        with open(PID_MAX) as f:
            old = f.read().strip()
        with open(PID_MAX, "w") as f:
            f.write(str(small))
    except OSError as e:
        skip(f"cannot lower {PID_MAX}: {e}")
    try:
        churn(small)
    finally:
        with open(PID_MAX, "w") as f:
            f.write(old)
    with open(PID_MAX) as f:
        check(f.read().strip() == old, f"pid_max restored to {old}")


def churn(small):
    d = tmpdir()
    sleep = shutil.which("sleep")
    names = []
    for i in range(NAMES):
        n = f"mwch{i:02d}"
        os.symlink(sleep, os.path.join(d, n))
        names.append(n)
    db = os.path.join(d, "mw.db")
    daemon = start_daemon(db, interval=0.2, wait_ticks=2)
    asan = b"__asan_init" in open(MEMWATCHD, "rb").read()
    stop_at = time.monotonic() + CHURN_S
    burner = threading.Thread(target=burn, args=(stop_at,))
    burner.start()
    truth = []  # (pid, start_ticks, comm) of the processes that live several ticks
    live = []
    rss_warm = None
    t0 = time.monotonic()
    while time.monotonic() < stop_at:
        n = random.choice(names)
        p = spawn([n, f"{random.uniform(0.5, 2.0):.2f}"], executable=os.path.join(d, n))
        st = start_ticks(p.pid)
        if st is not None:
            truth.append((p.pid, st, n))
        live.append(p)
        live = [q for q in live if q.poll() is None]
        if rss_warm is None and time.monotonic() - t0 > 10:
            rss_warm = rss_kib(daemon.pid)
        time.sleep(0.05)
    burner.join()
    for q in live:
        q.wait()
    rss_end = rss_kib(daemon.pid)
    # Ticks after the last exit, so every identity can be closed.
    n = db_query(db, "SELECT count(*) FROM ticks")[0][0]
    wait_for_ticks(db, n + 5, daemon)
    stop(daemon)

    pids = {}
    for pid, st, n in truth:
        pids.setdefault(pid, set()).add(st)
    reused = sum(1 for s in pids.values() if len(s) > 1)
    print(f"pid_max {small}: {len(truth)} tracked processes, {len(pids)} pids, "
          f"{reused} pids reused by tracked processes; daemon RSS {rss_warm[0]} -> {rss_end[0]} KiB"
          f", of it anonymous {rss_warm[1]} -> {rss_end[1]} KiB")
    check(reused >= 10, f"pids were reused by tracked processes ({reused})")

    rows = db_query(db, "SELECT p.pid, p.start_ticks, s.value, p.exit_tick, p.id "
                        "FROM procs p JOIN strings s ON s.id = p.comm")
    by_ident = {}
    for pid, st, comm, exit_tick, pid_row in rows:
        check((pid, st) not in by_ident, f"one procs row per identity ({pid}, {st})")
        by_ident[(pid, st)] = (comm, exit_tick)
    recorded = 0
    for pid, st, n in truth:
        got = by_ident.get((pid, st))
        if got is None:
            continue  # lived less than two ticks on a loaded host: not recorded (schema.md)
        recorded += 1
        check(got[0] == n, f"pid {pid} start {st}: comm {got[0]!r}, the process was {n!r}")
        check(got[1] is not None, f"pid {pid} start {st} ({n}): closed (exit_tick) after it died")
    check(recorded >= len(truth) // 2,
          f"most tracked processes were recorded ({recorded} of {len(truth)})")
    # A reused pid's rows never overlap: the older one is closed no later than the newer opens.
    spans = db_query(db, "SELECT pid, first_tick, exit_tick FROM procs WHERE exit_tick IS NOT NULL "
                         "ORDER BY pid, first_tick")
    for (pa, fa, ea), (pb, fb, eb) in zip(spans, spans[1:]):
        if pa == pb:
            check(ea <= fb, f"pid {pa}: identities overlap ({fa}..{ea} and {fb}..{eb})")
    if asan:
        print(f"ASan build: RSS bounds not applied (shadow memory and quarantine)")
    else:
        check(rss_end[1] < 16 * 1024, f"daemon anonymous RSS {rss_end[1]} KiB < 16 MiB")
        check(rss_end[1] - rss_warm[1] <= 4 * 1024,
              f"daemon anonymous RSS grew {rss_end[1] - rss_warm[1]} KiB from warm-up (<= 4 MiB)")


if __name__ == "__main__":
    run([test_churn])
