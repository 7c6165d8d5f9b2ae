#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""SIGKILL memwatchd mid-run: the database passes integrity_check and keeps
every completed tick whole (issue 2, acceptance 4)."""
import os
import random
import signal
import time

from mwtest import check, db_query, db_scalar, run, spawn, start_daemon, stop, tmpdir, ticks


def test_sigkill_keeps_completed_ticks():
    d = tmpdir()
    db = os.path.join(d, "mw.db")
    # Churn: short-lived processes so every tick writes starts, exits and rows.
    churn = spawn(["sh", "-c", "while :; do sleep 0.05 & sleep 0.03; done"])
    rnd = random.Random(1234)
    for round_ in range(5):
        daemon = start_daemon(db, interval=0.1, wait_ticks=ticks(db) + 1)
        time.sleep(rnd.uniform(0.3, 1.5))
        before = ticks(db)
        daemon.send_signal(signal.SIGKILL)
        daemon.wait()
        after = ticks(db)
        check(after >= before, f"round {round_}: ticks committed before the kill are kept "
                               f"({before} -> {after})")
        check(db_scalar(db, "PRAGMA integrity_check") == "ok", f"round {round_}: integrity_check")
        # Every tick is whole: its system row is there (same transaction).
        orphans = db_scalar(db, "SELECT count(*) FROM ticks t LEFT JOIN sys_samples s"
                                " ON s.tick = t.id WHERE s.tick IS NULL")
        check(orphans == 0, f"round {round_}: no tick without its system sample ({orphans})")
        rows_without_tick = db_scalar(db, "SELECT count(*) FROM proc_samples s"
                                          " LEFT JOIN ticks t ON t.id = s.tick WHERE t.id IS NULL")
        check(rows_without_tick == 0, f"round {round_}: no process row from a lost tick")
    stop(churn)
    # The restarted daemons closed the processes the killed ones left open.
    check(db_scalar(db, "SELECT count(*) FROM events WHERE kind = 'daemon-start'") == 5,
          "five daemon starts recorded")
    dup = db_scalar(db, "SELECT count(*) FROM (SELECT boot, pid, start_ticks FROM procs"
                        " GROUP BY 1, 2, 3 HAVING count(*) > 1)")
    check(dup == 0, "no process identity recorded twice across restarts")


if __name__ == "__main__":
    run([test_sigkill_keeps_completed_ticks])
