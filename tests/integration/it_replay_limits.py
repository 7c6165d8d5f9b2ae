#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Layers issue, item 3: the analysis is a pure function of stored data.
A leak recorded under a 256 MiB memory cgroup gives, from a copy of the
database read after that cgroup is gone (so no live limit can be found,
and this process is outside any limit), the same verdict, limit and time
to exhaustion as on the recording host while the cgroup was there."""
import math
import os
import shutil
import time

from bpftest import require_root
from mwtest import (check, cli_json, db_scalar, memory_cgroup, remove_cgroup, run, skip,
                    start_daemon, start_in_cgroup, stop, tmpdir)

LIMIT = 256 << 20
RECORD_S = 25


def summary(rep):
    top = [h for h in rep["hypotheses"] if h["tag"] != "OOM"][0]
    return {"verdict": rep["verdict"]["top"], "top": top["tag"],
            "tte": top["time_to_exhaustion_s"], "basis": top["exhaustion_basis"],
            "limit": rep["limits"]["cgroup_limit"], "usage": rep["limits"]["cgroup_usage"],
            "path": rep["limits"]["cgroup_path"]}


def test_copy_replays_with_recorded_limits():
    require_root()
    name = f"mw-it-replay-{os.getpid()}"
    try:
        cg, version = memory_cgroup(name, LIMIT)
    except OSError as e:
        skip(f"this kernel gives us no memory cgroup to limit: {e}")
    d = tmpdir()
    db = os.path.join(d, "mw.db")
    daemon = start_daemon(db, interval=0.5, extra=["--slow-interval", "2"])
    w = start_in_cgroup(cg, "heap_grow", "--rate", 2 << 20, "--for", RECORD_S + 60)
    time.sleep(RECORD_S)
    stop(daemon)
    rows = db_scalar(db, "SELECT count(*) FROM memcg_samples")
    print(f"cgroup v{version} {cg}: {rows} memcg rows recorded", flush=True)
    check(rows and rows > 0, "the daemon recorded the cgroup's limit")
    here = summary(cli_json("report", w.pid, "--db", db, "--since", "10m"))
    print(f"on the recording host: {here}", flush=True)
    check(here["limit"] == LIMIT and here["path"].endswith(name),
          f"the limit and its cgroup are reported: {here}")
    check(here["basis"] == "cgroup memory limit" and here["tte"] and here["tte"] > 0,
          f"time to exhaustion against the cgroup: {here}")
    stop(w)
    remove_cgroup(cg)
    check(not os.path.exists(cg), f"{cg} removed: no live limit left to read")
    copy = os.path.join(tmpdir(), "copy.db")
    shutil.copy(db, copy)
    there = summary(cli_json("report", w.pid, "--db", copy, "--since", "10m"))
    print(f"from the copy, cgroup gone: {there}", flush=True)
    for k in ("verdict", "top", "basis", "limit", "usage", "path"):
        check(there[k] == here[k], f"{k}: {there[k]!r} == {here[k]!r}")
    check(here["tte"] and there["tte"] and math.isclose(there["tte"], here["tte"], rel_tol=1e-9),
          f"time to exhaustion {there['tte']} == {here['tte']}")


if __name__ == "__main__":
    run([test_copy_replays_with_recorded_limits])
