#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""The CLI's contract: live sampling without history, clear errors with the
right exit codes, the single-writer rule, status."""
import os
import socket
import sqlite3
import time

from mwtest import (MEMWATCHD, check, cli, cli_json, db_scalar, run, spawn, start_daemon,
                    start_workload, stop, tmpdir, unique_copy)
import subprocess


def test_live_sampling_without_db():
    d = tmpdir()
    g = start_workload("heap_grow", "--rate", 4 << 20, "--for", 60)
    rep = cli_json("report", g.pid, "--live", "--sample", "2s")
    check(rep["source"]["kind"] == "live", "no database: live sampling")
    check("no recorded history" in (rep["source"]["note"] or ""), "says history is short")
    check(rep["window"]["points"] >= 4, f"several samples ({rep['window']['points']})")
    check(1.5 <= rep["window"]["seconds"] <= 3.0, f"~2 s window ({rep['window']['seconds']})")
    check((rep["metrics"]["rss_anon"]["delta"] or 0) > (2 << 20), "live growth is seen")
    rc, out, _ = cli("report", g.pid, "--live", "--sample", "1s")
    check(rc == 0 and "no recorded history" in out and "heap_grow" in out, "text report, live")
    stop(g)


def test_errors():
    d = tmpdir()
    rc, _, err = cli("report", "4000000", "--live")
    check(rc == 1 and "no process with pid 4000000" in err, f"unknown pid: rc {rc}, {err!r}")
    rc, _, err = cli("report", "no-such-process-name-xyz")
    check(rc == 1 and "no running process named 'no-such-process-name-xyz'" in err,
          f"unknown name: {rc} {err!r}")
    alias, path = unique_copy("flat")
    a = start_workload("flat", "--for", 60, path=path)
    b = start_workload("flat", "--for", 60, path=path)
    rc, _, err = cli("report", alias, "--live")
    check(rc == 1 and "matches 2 processes" in err and str(a.pid) in err and str(b.pid) in err,
          f"ambiguous name lists both: {rc} {err!r}")
    stop(a)
    stop(b)
    rc, _, err = cli("report", "1", "--since", "yesterday")
    check(rc == 2 and "--since 'yesterday'" in err, f"bad --since names it: {rc} {err!r}")
    rc, _, err = cli("report")
    check(rc == 2, "no target: usage error")
    rc, _, err = cli("report", "1", "--sample", "1h")
    check(rc == 2 and "--sample" in err, "over-long --sample")
    rc, _, err = cli("frobnicate")
    check(rc == 2 and "unknown command 'frobnicate'" in err, "unknown command")
    rc, _, err = cli("status", "--db", os.path.join(d, "nothing.db"))
    check(rc == 1 and "no such database" in err, f"status without db: {rc} {err!r}")
    r = subprocess.run([MEMWATCHD, "--interval", "abc"], capture_output=True, text=True)
    check(r.returncode == 2 and "--interval 'abc'" in r.stderr, f"daemon bad interval: {r.stderr!r}")
    r = subprocess.run([MEMWATCHD, "--frob"], capture_output=True, text=True)
    check(r.returncode == 2 and "'--frob'" in r.stderr, "daemon unknown option")
    # A file that is not a database: both tools say so and do not touch it.
    junk = os.path.join(d, "junk.db")
    with open(junk, "w") as f:
        f.write("not a database " * 500)
    rc, _, err = cli("status", "--db", junk)
    check(rc == 1 and "not a memwatch database" in err, f"status on junk: {err!r}")
    with open(junk) as f:
        check(f.read() == "not a database " * 500, "junk file left as it was")


def test_single_writer_and_status():
    d = tmpdir()
    db = os.path.join(d, "mw.db")
    daemon = start_daemon(db, interval=0.5, wait_ticks=2)
    r = subprocess.run([MEMWATCHD, "--foreground", "--db", db], capture_output=True, text=True,
                       timeout=10)
    check(r.returncode == 1, f"second daemon refuses (rc {r.returncode})")
    check(f"another memwatchd (pid {daemon.pid}) is already recording" in r.stderr,
          f"second daemon names the first: {r.stderr!r}")
    st = cli_json("status", "--db", db)
    check(st["recording"] is True and st["writer_pid"] == daemon.pid, f"status: recording {st}")
    check(st["ticks"] >= 2 and st["processes"] > 0 and st["process_rows"] > 0, "status counts")
    check(st["file_bytes"] > 0, "status: db size")
    rc, out, _ = cli("status", "--db", db)
    check(rc == 0 and f"memwatchd pid {daemon.pid}" in out, "status text")
    stop(daemon)
    st = cli_json("status", "--db", db)
    check(st["recording"] is False, "status after stop: not recording")


def host_line(text):
    return next((ln for ln in text.splitlines() if ln.startswith("  host ")), None)


def test_hostname():
    d = tmpdir()
    db = os.path.join(d, "mw.db")
    me = socket.gethostname()
    f = start_workload("flat", "--for", 60)
    daemon = start_daemon(db, interval=0.5, wait_ticks=3)
    check(db_scalar(db, "SELECT value FROM meta WHERE key = 'hostname'") == me,
          f"the daemon records this host's name ({me!r}) in meta")
    for args in ((f.pid,), ("--system",)):
        rep = cli_json("report", *args, "--db", db)
        check(rep.get("hostname") == me, f"report {args[0]} --json: hostname {rep.get('hostname')!r}")
        rc, out, err = cli("report", *args, "--db", db)
        check(rc == 0 and host_line(out) == f"  host     {me}",
              f"report {args[0]} text: {host_line(out)!r} {err}")
    rep = cli_json("report", f.pid, "--live", "--sample", "1s")
    check(rep["source"]["kind"] == "live" and rep.get("hostname") == me,
          f"live report names this host: {rep.get('hostname')!r}")
    stop(daemon)
    # A database copied from elsewhere names the host that recorded it; its name is
    # hostile text like any other (a terminal escape, HTML, a quote).
    far = "far\x1b]0;pwned\x07<b>\"host"
    copy = os.path.join(d, "copy.db")
    src, dst = sqlite3.connect(db), sqlite3.connect(copy)
    src.backup(dst)
    src.close()
    dst.execute("UPDATE meta SET value = ? WHERE key = 'hostname'", (far,))
    dst.commit()
    for args in ((f.pid,), ("--system",)):
        rep = cli_json("report", *args, "--db", copy)
        check(rep.get("hostname") == far, f"copied db, {args[0]} --json: {rep.get('hostname')!r}")
        rc, out, _ = cli("report", *args, "--db", copy)
        line = host_line(out) or ""
        check(rc == 0 and line.startswith("  host     far") and "<b>" in line and me not in line
              and "\x1b" not in out and "\x07" not in out,
              f"copied db, {args[0]} text: recording host, escaped: {line!r}")
    rc, out, _ = cli("top", "--batch", "--iterations", "1", "--db", copy)
    first = out.splitlines()[0] if out else ""
    check(rc == 0 and first.startswith("memwatch top - far") and me not in first.split(" - ")[1]
          and "\x1b" not in out, f"top --batch on the copy names the recording host: {first!r}")
    html = os.path.join(d, "sys.html")
    rc, _, err = cli("report", "--system", "--db", copy, "--html", html)
    with open(html, encoding="utf-8", errors="replace") as fh:
        page = fh.read()
    check(rc == 0 and '<span class="host">far' in page and "&lt;b&gt;&quot;host" in page
          and "<b>" not in page and "\x1b" not in page,
          f"system HTML: host escaped ({rc} {err})")
    # A database from before the name was recorded says so rather than guessing.
    dst.execute("DELETE FROM meta WHERE key = 'hostname'")
    dst.commit()
    dst.close()
    rep = cli_json("report", "--system", "--db", copy)
    check(rep.get("hostname", "missing") is None, f"no recorded name: null ({rep.get('hostname')!r})")
    rc, out, _ = cli("report", "--system", "--db", copy)
    check(host_line(out) == "  host     (not recorded)", f"no recorded name: {host_line(out)!r}")
    stop(f)


if __name__ == "__main__":
    run([test_live_sampling_without_db, test_errors, test_single_writer_and_status, test_hostname])
