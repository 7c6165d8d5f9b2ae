#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Storage safety of memwatchd: SIGKILL at random moments (20 rounds) keeps
every completed tick and a sound file; a full disk (a small tmpfs) drops
and counts ticks, logs once, and recording resumes when space returns; a
corrupt or foreign file is moved aside, never deleted; a newer schema is
refused untouched."""
import glob
import hashlib
import os
import re
import random
import signal
import sqlite3
import subprocess
import time

from mwtest import (MEMWATCHD, check, daemon_log, db_query, db_scalar, run, skip, spawn,
                    start_daemon, stop, ticks, tmpdir, wait_for_ticks)


def rows_per_tick(db, upto):
    return dict(db_query(db, "SELECT tick, count(*) FROM proc_samples WHERE tick <= ?"
                             " GROUP BY tick", (upto,)))


def test_sigkill_20_rounds():
    d = tmpdir()
    db = os.path.join(d, "mw.db")
    churn = spawn(["sh", "-c", "while :; do sleep 0.05 & sleep 0.02; done"])
    rnd = random.Random(20)
    for rnd_i in range(20):
        daemon = start_daemon(db, interval=0.1, extra=["--config", "/dev/null"],
                              wait_ticks=ticks(db) + 1)
        time.sleep(rnd.uniform(0.05, 0.8))
        before_max = db_scalar(db, "SELECT max(id) FROM ticks") or 0
        before_rows = rows_per_tick(db, before_max)
        daemon.send_signal(signal.SIGKILL)
        daemon.wait()
        check(db_scalar(db, "PRAGMA integrity_check") == "ok", f"round {rnd_i}: integrity_check")
        after_rows = rows_per_tick(db, before_max)
        # A later tick may add back-dated rows (a process recorded at its second sighting
        # gets its first one too), so completed ticks can gain rows, never lose them.
        check(all(after_rows.get(t, 0) >= n for t, n in before_rows.items()),
              f"round {rnd_i}: ticks completed before the kill are intact")
        check(db_scalar(db, "SELECT count(*) FROM ticks WHERE id <= ?", (before_max,)) ==
              db_scalar(db, "SELECT count(*) FROM sys_samples WHERE tick <= ?", (before_max,)),
              f"round {rnd_i}: every tick has its system row")
        orphans = db_scalar(db, "SELECT count(*) FROM proc_samples s LEFT JOIN ticks t"
                                " ON t.id = s.tick WHERE t.id IS NULL")
        check(orphans == 0, f"round {rnd_i}: no row from a lost tick")
    stop(churn)


def have_mount():
    return os.geteuid() == 0 and subprocess.run(["mount", "--version"],
                                                capture_output=True).returncode == 0


def test_disk_full():
    if not have_mount():
        skip("needs root to mount a small tmpfs")
    d = tmpdir()
    mnt = os.path.join(d, "small")
    os.mkdir(mnt)
    r = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=3m", "tmpfs", mnt],
                       capture_output=True, text=True)
    if r.returncode != 0:
        skip(f"cannot mount tmpfs: {r.stderr.strip()}")
    try:
        db = os.path.join(mnt, "mw.db")
        churn = spawn(["sh", "-c", "while :; do sleep 0.05 & sleep 0.02; done"])
        log = open(os.path.join(d, "daemon.log"), "ab")
        p = spawn([MEMWATCHD, "--foreground", "--config", "/dev/null", "--db", db,
                   "--interval", "0.1"], stderr=log)
        log.close()
        wait_for_ticks(db, 5, p)
        filler = os.path.join(mnt, "filler")
        # Unbuffered: a buffered file would retry its leftover bytes on close and raise there.
        with open(filler, "wb", buffering=0) as f:
            try:
                while True:
                    f.write(b"\0" * 65536)
            except OSError:
                pass
        logpath = os.path.join(d, "daemon.log")

        def logtext():
            with open(logpath, errors="replace") as f:
                return f.read()

        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and "tick failed" not in logtext():
            time.sleep(0.1)
        check("tick failed" in logtext(), "a failing tick is logged")
        time.sleep(2)  # ~20 more failing ticks
        check(p.poll() is None, "daemon keeps running on a full disk")
        check(logtext().count("tick failed") == 1,
              f"logged once, not every tick ({logtext().count('tick failed')})")
        stuck = ticks(db)
        os.unlink(filler)
        wait_for_ticks(db, stuck + 5, p, timeout=30)
        check("recording again" in logtext(), "recovery logged")
        dropped = int(db_scalar(db, "SELECT value FROM meta WHERE key = 'dropped_ticks'") or 0)
        check(dropped >= 5, f"dropped ticks counted in meta ({dropped})")
        rc, out = subprocess.run([os.environ.get("MEMWATCH", "memwatch"), "status", "--db", db,
                                  "--json"], capture_output=True, text=True).returncode, None
        check(rc == 0, "memwatch status works after recovery")
        out = subprocess.run([os.environ.get("MEMWATCH", "memwatch"), "status", "--db", db],
                             capture_output=True, text=True).stdout
        hist = re.search(r"history: .*\((.*)\), \d+ ticks, last (.*) ago", out)
        check(hist is not None and hist.group(1) != hist.group(2),
              f"status: the last tick's age is not the history's span ({hist and hist.groups()})")
        stop(p)
        stop(churn)
        check(db_scalar(db, "PRAGMA integrity_check") == "ok", "no corruption after disk full")
    finally:
        subprocess.run(["umount", "-l", mnt])


def sha(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def test_corrupt_file_moved_aside():
    d = tmpdir()
    db = os.path.join(d, "mw.db")
    p = start_daemon(db, interval=0.1, extra=["--config", "/dev/null"], wait_ticks=30)
    stop(p)
    size = os.path.getsize(db)
    check(size >= 4096 * 8, f"database has pages to corrupt ({size})")
    with open(db, "r+b") as f:
        # Clobber the page headers of every page but the first (which holds the
        # schema and the file header): only quick_check can tell.
        for page in range(1, size // 4096):
            f.seek(page * 4096)
            f.write(b"\xa5" * 16)
    digest = sha(db)
    p = start_daemon(db, interval=0.1, extra=["--config", "/dev/null"], wait_ticks=2)
    stop(p)
    aside = glob.glob(db + ".corrupt-*")
    aside = [a for a in aside if not a.endswith(("-wal", "-shm", "-journal"))]
    check(len(aside) == 1, f"moved aside once: {aside}")
    if aside:
        check(sha(aside[0]) == digest, "the corrupt file is kept byte for byte")
        check(aside[0] in daemon_log(db), "the log says where it went")
    check(db_scalar(db, "PRAGMA integrity_check") == "ok", "a fresh database in its place")
    check(db_scalar(db, "SELECT count(*) FROM events WHERE kind = 'db-moved-aside'") == 1,
          "the move is recorded as an event")


def test_foreign_file_moved_aside():
    d = tmpdir()
    db = os.path.join(d, "mw.db")
    with open(db, "w") as f:
        f.write("this is somebody's notes file, not a database\n" * 100)
    digest = sha(db)
    p = start_daemon(db, interval=0.1, extra=["--config", "/dev/null"], wait_ticks=2)
    stop(p)
    aside = [a for a in glob.glob(db + ".corrupt-*") if not a.endswith(("-wal", "-shm"))]
    check(len(aside) == 1 and sha(aside[0]) == digest, "foreign file kept, moved aside")
    con = sqlite3.connect(os.path.join(d, "other.db"))
    con.execute("CREATE TABLE t(x)")
    con.commit()
    con.close()
    other = os.path.join(d, "other.db")
    digest = sha(other)
    p = start_daemon(other, interval=0.1, extra=["--config", "/dev/null"], wait_ticks=1)
    stop(p)
    check(glob.glob(other + ".corrupt-*"), "another application's SQLite file moved aside")
    check(any(sha(a) == digest for a in glob.glob(other + ".corrupt-*")), "kept intact")


def test_newer_schema_refused():
    d = tmpdir()
    db = os.path.join(d, "mw.db")
    con = sqlite3.connect(db)
    con.execute("PRAGMA application_id = 1297563988")  # 'MWAT'
    con.execute("CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT)")
    con.execute("PRAGMA user_version = 999")
    con.commit()
    con.close()
    digest = sha(db)
    r = subprocess.run([MEMWATCHD, "--foreground", "--config", "/dev/null", "--db", db],
                       capture_output=True, text=True, timeout=30)
    check(r.returncode == 1, f"exit 1 ({r.returncode})")
    check("newer memwatch" in r.stderr and db in r.stderr, f"clear message: {r.stderr!r}")
    check(sha(db) == digest and not glob.glob(db + ".corrupt-*"), "file untouched, not moved")


def test_file_modes():
    d = tmpdir()
    db = os.path.join(d, "sub", "mw.db")
    os.mkdir(os.path.join(d, "sub"), 0o750)
    old = os.umask(0o027)
    try:
        p = start_daemon(db, interval=0.1, extra=["--config", "/dev/null"], wait_ticks=2)
    finally:
        os.umask(old)
    mode = os.stat(db).st_mode & 0o777
    check(mode == 0o640, f"database 0640 under UMask=0027 ({oct(mode)})")
    for suffix in ("-wal", "-shm"):
        if os.path.exists(db + suffix):
            m = os.stat(db + suffix).st_mode & 0o777
            check(m == 0o640, f"{suffix} follows the database's mode ({oct(m)})")
    stop(p)


if __name__ == "__main__":
    run([test_newer_schema_refused, test_corrupt_file_moved_aside, test_foreign_file_moved_aside,
         test_file_modes, test_disk_full, test_sigkill_20_rounds])
