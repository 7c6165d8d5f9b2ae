#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Without root (acceptance 6): the slab collector says "unavailable: needs
root" and everything else works, for the CLI and for the daemon, run as
nobody through setpriv."""
import json
import os
import shutil
import subprocess
import time

from mwtest import MEMWATCH, MEMWATCHD, check, db_query, db_scalar, run, skip, spawn, stop, tmpdir

NOBODY = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"]


def need_setpriv():
    if os.geteuid() != 0 or not shutil.which("setpriv"):
        skip("needs root and setpriv to drop to nobody")


def as_nobody(*args):
    r = subprocess.run([*NOBODY, MEMWATCH, *map(str, args)], capture_output=True, text=True,
                       timeout=60)
    return r.returncode, r.stdout, r.stderr


def test_cli_without_root():
    need_setpriv()
    rc, out, err = as_nobody("report", "--system", "--json", "--live",
                             "--sample", "1s")
    check(rc == 0, f"report --system works as nobody: {rc} {err}")
    if rc == 0:
        rep = json.loads(out)
        check(rep["slab"]["available"] is False and rep["slab"]["why"] == "unavailable: needs root",
              f"slab says why: {rep['slab']}")
        check(rep["reclaim"]["tunables"]["swappiness"] is not None, "tunables still read")
        check(len(rep["reclaim"]["zones"]) > 0, "zones still read")
        check(rep["memory"]["mem_total"] > 0, "meminfo still read")
        check(rep["oom"]["next_victim_pid"] is not None, "OOM forecast still made")
    rc, out, _ = as_nobody("report", "--system", "--live", "--sample", "1s")
    check(rc == 0 and "Slab caches: unavailable: needs root" in out, f"text says so:\n{out}")
    rc, out, err = as_nobody("ipc", "--json", "--live")
    check(rc == 0 and "objects" in json.loads(out or "{}"), f"ipc works: {rc} {err}")
    rc, out, err = as_nobody("oom", "--json", "--live", "--sample", "1s")
    check(rc == 0 and json.loads(out or "{}").get("forecast", {}).get("ranking"),
          f"oom works: {rc} {err}")


def test_daemon_without_root():
    need_setpriv()
    d = tmpdir()
    os.chown(d, 65534, 65534)
    db = os.path.join(d, "mw.db")
    log = open(db + ".log", "wb")
    daemon = spawn([*NOBODY, MEMWATCHD, "--foreground", "--db", db, "--interval", "0.5",
                    "--slow-interval", "0.5"], stderr=log)
    log.close()
    deadline = time.monotonic() + 30
    n = 0
    while time.monotonic() < deadline and daemon.poll() is None:
        try:
            n = db_scalar(db, "SELECT count(*) FROM system_slow_ticks") or 0
        except Exception:
            n = 0
        if n >= 3:
            break
        time.sleep(0.2)
    check(n >= 3, f"the daemon keeps taking slow samples as nobody ({n})")
    check(db_scalar(db, "SELECT value FROM meta WHERE key = 'slab'") == "unavailable: needs root",
          "meta records why slab is off")
    check(db_scalar(db, "SELECT count(*) FROM system_slow_ticks WHERE slab = 1") == 0,
          "no slab samples claimed")
    check(db_scalar(db, "SELECT count(*) FROM slab_samples") == 0, "no slab rows")
    check(db_scalar(db, "SELECT count(*) FROM tunables") >= 6, "tunables recorded")
    check(db_scalar(db, "SELECT count(*) FROM zone_samples") > 0, "zones recorded")
    check(db_scalar(db, "SELECT count(*) FROM system_slow_ticks WHERE ipc = 1") >= 3,
          "IPC recorded")
    stop(daemon)
    with open(db + ".log", errors="replace") as f:
        text = f.read()
    check("slab: unavailable: needs root" in text, f"the log says so:\n{text}")


if __name__ == "__main__":
    run([test_cli_without_root, test_daemon_without_root])
