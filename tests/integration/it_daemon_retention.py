#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Retention: a synthetic store spanning 40 days shrinks to the configured
windows (raw 48 h, minute rollups 30 d, hour rollups 365 d), the rollups
answer a 30-day trend, the size cap drops the oldest data first, and over
repeated passes with new data coming in the file stops growing."""
import os
import sqlite3
import subprocess
import time

from mwtest import MEMWATCHD, check, db_scalar, run, start_daemon, stop, tmpdir

DAY = 86400000
MIB = 1 << 20
LEAK_PER_DAY = 1 * MIB
PROCS = 6


def prune(db, conf, now_ms=None):
    at = ["--now", f"@{now_ms // 1000}"] if now_ms else []
    r = subprocess.run([MEMWATCHD, "--prune", "--config", conf, "--db", db, *at],
                       capture_output=True, text=True, timeout=600)
    check(r.returncode == 0, f"--prune exit {r.returncode}: {r.stderr}")
    return r.stdout


def synth(db, start_ms, end_ms, step_ms=60000):
    """Ticks every step_ms in [start_ms, end_ms): one leaking process, the rest flat."""
    con = sqlite3.connect(db)
    con.execute("INSERT OR IGNORE INTO boots(boot_id, btime) VALUES('synthetic', 0)")
    boot = con.execute("SELECT id FROM boots WHERE boot_id = 'synthetic'").fetchone()[0]
    first = (con.execute("SELECT coalesce(max(id), 0) FROM ticks").fetchone()[0]) + 1
    n = (end_ms - start_ms) // step_ms
    con.execute("WITH RECURSIVE seq(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM seq"
                " WHERE i < ?) INSERT INTO ticks(id, t_ms, boot, duration_us, nprocs)"
                " SELECT ? + i, ? + i * ?, ?, 1000, ? FROM seq",
                (n - 1, first, start_ms, step_ms, boot, PROCS))
    for k in range(PROCS):
        con.execute("INSERT OR IGNORE INTO procs(boot, pid, start_ticks, first_tick)"
                    " VALUES(?, ?, 1, ?)", (boot, 90000 + k, first))
    con.execute("INSERT INTO proc_samples(proc, tick, full, rss, rss_anon, vsz, threads)"
                " SELECT p.id, t.id, 1,"
                " CASE WHEN p.pid = 90000 THEN 100 * ?1 + (t.t_ms - ?2) * ?3 / ?4"
                "      ELSE 50 * ?1 + (t.id % 7) * 4096 END, 10 * ?1, 500 * ?1, 4"
                " FROM ticks t JOIN procs p ON p.boot = ?5 WHERE t.id >= ?6",
                (MIB, 0, LEAK_PER_DAY, DAY, boot, first))
    con.execute("INSERT INTO sys_samples(tick, mem_total, mem_available, pgscan_direct)"
                " SELECT id, 8 * 1073741824, 4 * 1073741824 - (id % 100) * 4096, id"
                " FROM ticks WHERE id >= ?", (first,))
    con.commit()
    con.close()


def q(db, sql, args=()):
    con = sqlite3.connect(db)
    try:
        return con.execute(sql, args).fetchone()[0]
    finally:
        con.close()


def slope_per_day(points):
    n = len(points)
    mx = sum(t for t, _ in points) / n
    my = sum(v for _, v in points) / n
    num = sum((t - mx) * (v - my) for t, v in points)
    den = sum((t - mx) ** 2 for t, _ in points)
    return num / den * DAY


def make_store(d):
    db = os.path.join(d, "mw.db")
    p = start_daemon(db, interval=0.2, extra=["--config", "/dev/null"], wait_ticks=1)
    stop(p)
    return db


def test_windows_and_trend():
    d = tmpdir()
    db = make_store(d)
    conf = os.path.join(d, "mw.conf")
    with open(conf, "w") as f:
        f.write("retain_raw = 48h\nretain_minute = 30d\nretain_hour = 365d\nmax_size = 1G\n")
    now = int(time.time() * 1000)
    synth(db, now - 40 * DAY, now - 120000)
    before = q(db, "SELECT count(*) FROM ticks")
    check(before >= 40 * 1440 - 5, f"synthetic store spans 40 days ({before} ticks)")
    out = prune(db, conf)
    print(out.strip())
    oldest_raw = q(db, "SELECT min(t_ms) FROM ticks")
    check(oldest_raw >= now - 2 * DAY - 120000,
          f"raw rows only inside 48 h ({(now - oldest_raw) / 3600000:.1f} h old)")
    check(q(db, "SELECT count(*) FROM proc_samples s LEFT JOIN ticks t ON t.id = s.tick"
                " WHERE t.id IS NULL") == 0, "no raw process row outlives its tick")
    oldest_min = q(db, "SELECT min(t_ms) FROM proc_rollups WHERE res = 60")
    check(oldest_min >= now - 30 * DAY - 60000,
          f"minute rollups inside 30 d ({(now - oldest_min) / DAY:.2f} d)")
    check(oldest_min <= now - 30 * DAY + 3600000, "minute rollups reach back 30 d")
    oldest_hour = q(db, "SELECT min(t_ms) FROM proc_rollups WHERE res = 3600")
    check(oldest_hour <= now - 39 * DAY, f"hour rollups keep all 40 d ({(now - oldest_hour) / DAY:.1f} d)")
    leak = q(db, "SELECT id FROM procs WHERE pid = 90000")
    con = sqlite3.connect(db)
    pts = con.execute("SELECT t_ms, rss_last FROM proc_rollups WHERE proc = ? AND res = 60"
                      " AND t_ms >= ? ORDER BY t_ms", (leak, now - 30 * DAY)).fetchall()
    hours = con.execute("SELECT t_ms, rss_min, rss_max, rss_last, n FROM proc_rollups"
                        " WHERE proc = ? AND res = 3600 ORDER BY t_ms", (leak,)).fetchall()
    flat = con.execute("SELECT max(rss_max) - min(rss_min) FROM proc_rollups r JOIN procs p"
                       " ON p.id = r.proc WHERE p.pid = 90001 AND res = 3600").fetchone()[0]
    sysr = con.execute("SELECT count(*), min(mem_available_min), max(mem_available_max)"
                       " FROM sys_rollups WHERE res = 3600").fetchone()
    con.close()
    check(len(pts) >= 29 * 1440, f"30 days of minute points ({len(pts)})")
    s = slope_per_day(pts)
    check(abs(s - LEAK_PER_DAY) < 0.01 * LEAK_PER_DAY,
          f"30-day trend from minute rollups: {s / MIB:.3f} MiB/day (1 expected)")
    s = slope_per_day([(t, last) for t, _, _, last, _ in hours])
    check(abs(s - LEAK_PER_DAY) < 0.01 * LEAK_PER_DAY,
          f"40-day trend from hour rollups: {s / MIB:.3f} MiB/day")
    check(all(mn <= last <= mx for _, mn, mx, last, _ in hours), "min <= last <= max")
    check(all(n == 60 for *_, n in hours[1:-1]), "an hour bucket summarises 60 ticks")
    check(flat == 6 * 4096, f"min/max keep the flat process's wobble ({flat})")
    check(sysr[0] >= 39 * 24 and sysr[1] < sysr[2], f"system rollups kept: {sysr}")
    # A second pass has nothing left to do.
    out = prune(db, conf)
    check("deleted 0 ticks" in out, f"second pass is idle: {out.strip()}")


def test_size_cap_and_steady_state():
    d = tmpdir()
    db = make_store(d)
    conf = os.path.join(d, "mw.conf")
    with open(conf, "w") as f:
        f.write("retain_raw = 48h\nretain_minute = 30d\nretain_hour = 365d\nmax_size = 1G\n")
    # 40 days ending 5 days ago, pruned as of then; then each pass adds the next
    # day and prunes as of its end, like a daemon running on (every window full).
    base = int(time.time() * 1000) - 45 * DAY
    synth(db, base, base + 40 * DAY)
    prune(db, conf, base + 40 * DAY)
    sizes = []
    for k in range(1, 5):
        synth(db, base + (39 + k) * DAY, base + (40 + k) * DAY)
        prune(db, conf, base + (40 + k) * DAY)
        sizes.append(os.path.getsize(db))
    print("file sizes after each pass:", sizes)
    check(max(sizes[1:]) <= sizes[0] * 1.05,
          f"file size stops growing across passes: {sizes}")
    av = q(db, "PRAGMA auto_vacuum")
    check(av == 2, f"new files use incremental auto-vacuum ({av})")
    check(q(db, "PRAGMA freelist_count") == 0, "freed pages returned to the filesystem")
    newest_hour = q(db, "SELECT max(t_ms) FROM proc_rollups WHERE res = 3600")
    # Now a cap far below the current size: oldest raw goes first, rollups keep the trend.
    with open(conf, "w") as f:
        f.write("retain_raw = 48h\nretain_minute = 30d\nretain_hour = 365d\nmax_size = 4M\n")
    prune(db, conf, base + 44 * DAY)
    size = os.path.getsize(db)
    check(size <= 4 * MIB * 1.1, f"file within the 4 MiB cap ({size})")
    check(q(db, "SELECT max(t_ms) FROM proc_rollups WHERE res = 3600") == newest_hour,
          "the newest rollups survive the cap")
    check(q(db, "SELECT count(*) FROM proc_rollups WHERE res = 3600") > 0, "hour trend kept")
    check(q(db, "PRAGMA integrity_check") == "ok", "integrity after capping")


def test_live_daemon_works_through_backlog():
    """A daemon started on a store with 40 days of raw rows keeps recording while
    it rolls up and deletes the backlog step by step, between its ticks."""
    d = tmpdir()
    db = make_store(d)
    now = int(time.time() * 1000)
    synth(db, now - 40 * DAY, now - 120000)
    old = q(db, "SELECT count(*) FROM ticks WHERE t_ms < ?", (now - 2 * DAY,))
    conf = os.path.join(d, "mw.conf")
    # Ticks of 0.5 s: at 0.2 s a sanitizer build's ticks (ASan, the slow tier's per-thread
    # stack pointers) filled the interval and left retention no time between them.
    with open(conf, "w") as f:
        f.write("interval = 0.5s\n")
    p = start_daemon(db, interval=0.5, extra=["--config", conf], wait_ticks=1)
    first_live = q(db, "SELECT max(id) FROM ticks")
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and p.poll() is None:
        if db_scalar(db, "SELECT count(*) FROM ticks WHERE id >= ?", (first_live,)) >= 20 and \
           db_scalar(db, "SELECT count(*) FROM ticks WHERE t_ms < ?", (now - 2 * DAY,)) < old:
            break
        time.sleep(0.2)
    stop(p)
    live = q(db, "SELECT count(*) FROM ticks WHERE id >= ?", (first_live,))
    left = q(db, "SELECT count(*) FROM ticks WHERE t_ms < ?", (now - 2 * DAY,))
    check(live >= 20, f"the daemon kept ticking during the backlog ({live} ticks)")
    check(left < old, f"the backlog shrank while it ran ({old} -> {left} old ticks)")
    check(q(db, "SELECT count(*) FROM proc_rollups WHERE res = 60") > 0, "minute rollups built")
    check(q(db, "PRAGMA integrity_check") == "ok", "integrity")


if __name__ == "__main__":
    run([test_windows_and_trend, test_size_cap_and_steady_state,
         test_live_daemon_works_through_backlog])
