#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""eBPF issue, acceptance 4: without the privilege to load eBPF (every
capability dropped), memwatchd still records from /proc, and both its log
and `memwatch status` say why eBPF is off."""
import os
import shutil
import subprocess

from mwtest import (MEMWATCHD, check, cli, cli_json, daemon_log, db_scalar, run, skip, spawn,
                    stop, tmpdir, wait_for_ticks)


def test_runs_on_proc_alone():
    setpriv = shutil.which("setpriv")
    if not setpriv:
        skip("setpriv (util-linux) is not installed")
    d = tmpdir()
    db = os.path.join(d, "mw.db")
    log = open(db + ".log", "ab")
    daemon = spawn([setpriv, "--inh-caps=-all", "--bounding-set=-all", "--", MEMWATCHD,
                    "--foreground", "--db", db, "--interval", "0.5"], stderr=log)
    log.close()
    wait_for_ticks(db, 3, daemon)
    state = db_scalar(db, "SELECT value FROM meta WHERE key = 'bpf'") or ""
    print(f"meta bpf = {state!r}")
    if state.startswith("off: not built"):
        skip("memwatch was built without eBPF support")
    check(state.startswith("off: "), f"meta bpf says off, got {state!r}")
    check("permission" in state, f"...and why (permission), got {state!r}")
    check("off:" in daemon_log(db) and "permission" in daemon_log(db),
          f"the daemon log says why:\n{daemon_log(db)}")
    check(db_scalar(db, "SELECT count(*) FROM proc_samples") > 0, "process rows from /proc")
    check(db_scalar(db, "SELECT count(*) FROM bpf_proc_samples") == 0, "no eBPF rows")
    rc, out, _ = cli("status", "--db", db)
    check(rc == 0, f"memwatch status exits 0 (got {rc})")
    check("eBPF:       off: no permission" in out, f"status says eBPF is off and why:\n{out}")
    st = cli_json("status", "--db", db)
    check(st["bpf"].startswith("off: "), f"status --json: {st['bpf']!r}")
    rc, _ = stop(daemon)
    check(rc == 0, f"memwatchd exits 0 (got {rc})")


if __name__ == "__main__":
    run([test_runs_on_proc_alone])
