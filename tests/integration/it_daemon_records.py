#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""memwatchd records a growing and a flat process into a real SQLite file;
memwatch report reads the growth back (issue 2, acceptance 2 and 3)."""
import os
import time

from mwtest import (check, cli_json, db_query, db_scalar, run, start_daemon, start_workload,
                    stop, tmpdir, wait_for_ticks)

RATE = 2 << 20  # bytes per second the heap workload grows by


def test_growth_and_flat():
    d = tmpdir()
    db = os.path.join(d, "mw.db")
    grower = start_workload("heap_grow", "--rate", RATE, "--chunk", 4000, "--for", 120)
    flat = start_workload("flat", "--size", 8 << 20, "--for", 120)
    daemon = start_daemon(db, interval=1.0)
    wait_for_ticks(db, 12, daemon)
    rows = db_query(db, """
        SELECT t.t_ms, s.rss, s.rss_anon FROM proc_samples s
        JOIN ticks t ON t.id = s.tick JOIN procs p ON p.id = s.proc
        WHERE p.pid = ? ORDER BY s.tick""", (grower.pid,))
    check(len(rows) >= 10, f"grower has a row per tick (got {len(rows)})")
    if len(rows) >= 2:
        (t0, _, a0), (t1, _, a1) = rows[0], rows[-1]
        expect = RATE * (t1 - t0) / 1000.0
        got = a1 - a0
        # Tolerance: malloc headers (16 B per 4000 B chunk), page rounding,
        # the workload's 100 ms steps against our sampling instants.
        tol = 0.10 * expect + RATE * 0.25
        check(abs(got - expect) <= tol,
              f"RssAnon rose by {got} over {(t1 - t0) / 1000:.1f}s, expected {expect:.0f} +- {tol:.0f}")
        rss_deltas = [b[1] - a[1] for a, b in zip(rows, rows[1:])]
        check(all(x >= 0 for x in rss_deltas), f"RSS never falls for the grower: {rss_deltas}")

    # The flat process changed nothing: only its first (full) row in 12 ticks.
    flat_rows = db_query(db, """SELECT s.full FROM proc_samples s JOIN procs p ON p.id = s.proc
                                WHERE p.pid = ?""", (flat.pid,))
    check(len(flat_rows) == 1 and flat_rows[0][0] == 1,
          f"flat process: exactly one full row over 12 ticks, got {flat_rows}")
    check(db_scalar(db, "SELECT count(*) FROM sys_samples") == db_scalar(db, "SELECT count(*) FROM ticks"),
          "one system sample per tick")
    check(db_scalar(db, "SELECT count(*) FROM sys_samples WHERE mem_available > 0 AND pgfault > 0")
          >= 12, "system samples carry meminfo and vmstat")

    rep = cli_json("report", grower.pid, "--db", db)
    check(rep["source"]["kind"] == "store", "report reads the store")
    per_h = rep["metrics"]["rss_anon"]["per_hour"]
    check(per_h is not None and per_h > 0, f"positive RssAnon growth rate, got {per_h}")
    if per_h:
        check(abs(per_h - RATE * 3600) <= 0.25 * RATE * 3600,
              f"RssAnon rate {per_h / 3600:.0f} B/s close to {RATE} B/s")
    flat_rep = cli_json("report", flat.pid, "--db", db)
    check(flat_rep["metrics"]["rss"]["delta"] == 0, "flat process: RSS delta 0")
    check(flat_rep["window"]["points"] >= 2, "flat process: window has a start and an end")

    # Exit: the process's end is recorded as an event with its last RSS.
    stop(grower)
    n = db_scalar(db, "SELECT count(*) FROM ticks")
    wait_for_ticks(db, n + 2, daemon)
    ev = db_query(db, "SELECT detail FROM events WHERE kind = 'exit' AND pid = ?", (grower.pid,))
    check(len(ev) == 1 and '"last_rss":' in ev[0][0], f"exit event for the grower: {ev}")
    rc, took = stop(daemon)
    check(rc == 0, f"memwatchd exits 0 on SIGTERM (got {rc})")
    check(took < 1.0, f"memwatchd stops within one second (took {took:.2f}s)")
    check(db_scalar(db, "SELECT count(*) FROM events WHERE kind = 'daemon-stop'") == 1,
          "daemon-stop event recorded")
    check(db_scalar(db, "PRAGMA integrity_check") == "ok", "integrity_check after a clean stop")
    stop(flat)


if __name__ == "__main__":
    run([test_growth_and_flat])
