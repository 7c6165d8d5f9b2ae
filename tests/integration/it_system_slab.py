#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Kernel slab growth (acceptance 3): a process that keeps AF_UNIX socket
pairs open grows the slab cache holding AF_UNIX sockets (on SLUB possibly
merged into another cache's slab, which /sys/kernel/slab names). It must
rank first among growing caches, with the process named by correlation."""
import os
import time

from mwtest import check, cli, cli_json, db_scalar, run, skip, start_daemon, start_workload, stop, tmpdir

SLOW = ("--slow-interval", "1")


def holds_unix(cache):
    return cache["name"] == "UNIX" or "UNIX" in cache["aliases"].split(",")


def test_socket_slab_ranks_first():
    if os.geteuid() != 0:
        skip("/proc/slabinfo needs root")
    d = tmpdir()
    db = os.path.join(d, "mw.db")
    daemon = start_daemon(db, interval=1.0, wait_ticks=2, extra=SLOW)
    hog = start_workload("sock_hog", "--rate", 700, "--count", 9000, "--for", 120)
    start = db_scalar(db, "SELECT count(*) FROM system_slow_ticks")
    deadline = time.monotonic() + 90
    while db_scalar(db, "SELECT count(*) FROM system_slow_ticks") < start + 12:
        if time.monotonic() > deadline or daemon.poll() is not None:
            raise RuntimeError("too few slow samples")
        time.sleep(0.3)
    rep = cli_json("report", "--system", "--db", db, "--since", "5m")
    check(rep["slab"]["available"] is True, "slab readable as root")
    growing = rep["slab"]["growing"]
    check(len(growing) >= 1, "some cache grows")
    if growing:
        top = growing[0]
        check(holds_unix(top), f"the AF_UNIX socket cache ranks first: {growing[:4]}")
        check(top["growth"] > 4 << 20, f"it grew by megabytes: {top['growth']}")
        check(top["mk_p"] < 0.05, f"significant trend: p={top['mk_p']}")
    hyp = [h for h in rep["hypotheses"] if h["rule"] == "slab-growth"]
    check(len(hyp) == 1, f"slab-growth raised: {[h['rule'] for h in rep['hypotheses']]}")
    if hyp and growing:
        check(hyp[0]["subject"] == growing[0]["name"], "the hypothesis is about the top cache")
        check(hyp[0]["pid"] == hog.pid and hyp[0]["comm"] == "sock_hog",
              f"the process whose fds rise in step is named: {hyp[0]['pid']} {hyp[0]['comm']}")
    rc, text, _ = cli("report", "--system", "--db", db, "--since", "5m")
    first = [l for l in text.splitlines() if l.strip().startswith("1. ")]
    check(rc == 0 and first and growing and growing[0]["name"] in first[0],
          f"text ranks it first: {first}")
    stop(hog)
    stop(daemon)


if __name__ == "__main__":
    run([test_socket_slab_ranks_first])
