#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Issue 15 item 4: limits are evidence. A process leaking descriptors up to
its RLIMIT_NOFILE (256, set with prlimit) stays there, flat: "no metric rose
steadily" is wrong, it is the "Too many open files" outage. Expected #1:
fd-limit, within 60 s of the leak's start, and still #1 once flat."""
import os
import shutil
import time

from mwtest import (WORKLOADS, check, cli_json, run, skip, spawn, start_daemon, stop, tmpdir)
import subprocess

LIMIT = 256
DEADLINE_S = 60


def reported(rep):
    return [h for h in rep["hypotheses"] if h["reported"]]


def test_fd_limit_first():
    prlimit = shutil.which("prlimit")
    if not prlimit:
        skip("prlimit (util-linux) is not installed")
    db = os.path.join(tmpdir(), "mw.db")
    daemon = start_daemon(db, interval=1, extra=["--slow-interval", "5"])
    w = spawn([prlimit, f"--nofile={LIMIT}:{LIMIT}", os.path.join(WORKLOADS, "fd_leak"),
               "--kind", "file", "--rate", "20", "--for", "300"],
              stdout=subprocess.PIPE, text=True)
    line = w.stdout.readline()
    check(line.startswith("ready "), f"fd_leak ready: {line!r}")
    t0 = time.monotonic()
    got, first_ok, rep = None, None, None
    while time.monotonic() - t0 < DEADLINE_S + 30:
        time.sleep(2)
        try:
            rep = cli_json("report", w.pid, "--db", db, "--since", "10m")
        except RuntimeError:
            continue
        top = reported(rep)
        got = top[0]["id"] if top else None
        if got == "fd-limit" and first_ok is None:
            first_ok = time.monotonic() - t0
        fds = top[0]["evidence"]["last"] if top else 0
        if first_ok is not None and fds >= LIMIT - 8 and time.monotonic() - t0 > 25:
            break
    print(f"expected #1 fd-limit within {DEADLINE_S} s: got {got}, "
          f"seconds to correct #1: {first_ok}", flush=True)
    check(first_ok is not None and first_ok <= DEADLINE_S,
          f"fd-limit #1 within {DEADLINE_S} s of the leak's start (got {got} after {first_ok})")
    check(got == "fd-limit", f"still #1 at the limit, flat: {got}")
    if rep:
        check(rep["limits"]["nofile_soft"] == LIMIT and rep["limits"]["nofile_hard"] == LIMIT,
              f"the recorded limits: {rep['limits']}")
        h = reported(rep)[0] if reported(rep) else {}
        check(f"of {LIMIT} descriptors" in (h.get("note") or ""), f"note: {h.get('note')}")
        print(f"#1: {h.get('id')} score {h.get('score')}: {h.get('note')}", flush=True)
    stop(w)
    stop(daemon)


if __name__ == "__main__":
    run([test_fd_limit_first])
