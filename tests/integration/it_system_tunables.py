#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Reclaim tunables (acceptance 5): collectors read a recorded /proc and /sys
tree through a root path, and the advice names the right tunable and value;
a live change of a tunable is recorded as a tunable-change event."""
import math
import os
import signal as _signal
import sys
import time

from mwtest import SRCDIR, check, cli, cli_json, db_query, run, skip, start_daemon, stop, tmpdir

# meson stops an overrunning test with SIGTERM: leave through finally/atexit so it cleans up.
_signal.signal(_signal.SIGTERM, lambda *_: sys.exit(1))


def managed_kb(root):
    total = 0
    with open(os.path.join(root, "proc/zoneinfo")) as f:
        for line in f:
            p = line.split()
            if len(p) == 2 and p[0] == "managed":
                total += int(p[1])
    return total * os.sysconf("SC_PAGE_SIZE") // 1024


def test_numa_fixture_advice():
    root = os.path.join(SRCDIR, "tests/data/root-numa")
    rep = cli_json("report", "--system", "--root", root, "--sample", "1s")
    check(rep["source"]["kind"] == "live" and root in rep["source"]["note"],
          f"says where it read: {rep['source']}")
    check(rep["reclaim"]["numa_nodes"] == 2, "two NUMA nodes in the fixture")
    check(rep["reclaim"]["tunables"]["zone_reclaim_mode"] == 1, "fixture's zone_reclaim_mode")
    adv = {a["tunable"]: a for a in rep["reclaim"]["advice"]}
    check("zone_reclaim_mode" in adv and adv["zone_reclaim_mode"]["suggested"] == 0,
          f"zone_reclaim_mode -> 0 on NUMA: {adv}")
    # The kernel's default for this much memory: sqrt(16 * managed kB), rounded up to 1 MiB.
    want = math.ceil(int(math.sqrt(managed_kb(root) * 16)) / 1024) * 1024
    check("min_free_kbytes" in adv and adv["min_free_kbytes"]["current"] == 4096 and
          adv["min_free_kbytes"]["suggested"] == want,
          f"min_free_kbytes 4096 -> {want}: {adv.get('min_free_kbytes')}")
    check("swappiness" not in adv, "no swap in the fixture: no swappiness advice")
    rc, text, _ = cli("report", "--system", "--root", root, "--sample", "1s")
    check(rc == 0 and "vm.zone_reclaim_mode = 0 (now 1)" in text and
          f"vm.min_free_kbytes = {want} (now 4096)" in text, f"text advice:\n{text}")
    html = os.path.join(tmpdir(), "r.html")
    rc, _, err = cli("report", "--system", "--root", root, "--sample", "1s", "--html", html)
    with open(html) as f:
        page = f.read()
    check(rc == 0 and page.startswith("<!DOCTYPE html>") and
          f"vm.min_free_kbytes = {want} (now 4096)" in page and "</html>" in page,
          f"HTML report written: {rc} {err}")
    rc, _, err = cli("report", "--system", "--json", "--html", html)
    check(rc == 2 and "pick one" in err, f"--json with --html is a usage error: {rc} {err}")


def test_single_node_fixture_no_advice():
    root = os.path.join(SRCDIR, "tests/data/root-6.18")
    rep = cli_json("report", "--system", "--root", root, "--sample", "1s")
    check(rep["reclaim"]["numa_nodes"] == 1, "one node")
    check(rep["reclaim"]["advice"] == [], f"a well-set machine gets no advice: {rep['reclaim']['advice']}")
    check(len(rep["reclaim"]["zones"]) >= 3, "zones from the recorded zoneinfo")


def test_tunable_change_event():
    if os.geteuid() != 0:
        skip("changing /proc/sys/vm needs root")
    path = "/proc/sys/vm/overcommit_ratio"  # only used with overcommit_memory=2: harmless
    with open(path) as f:
        old = int(f.read())
    d = tmpdir()
    db = os.path.join(d, "mw.db")
    daemon = start_daemon(db, interval=0.5, wait_ticks=2)
    try:
        with open(path, "w") as f:
            f.write(str(old + 1))
        deadline = time.monotonic() + 20
        rows = []
        while not rows and time.monotonic() < deadline:
            rows = db_query(db, "SELECT json_extract(detail, '$.old'), json_extract(detail, '$.new')"
                                " FROM events WHERE kind = 'tunable-change' AND"
                                " json_extract(detail, '$.name') = 'overcommit_ratio'")
            time.sleep(0.2)
        check(rows == [(old, old + 1)], f"tunable-change event {rows}")
        vals = db_query(db, "SELECT value FROM tunables WHERE name = 'overcommit_ratio' ORDER BY tick")
        check(vals == [(old,), (old + 1,)], f"recorded at start and on change: {vals}")
    finally:
        with open(path, "w") as f:
            f.write(str(old))
        stop(daemon)


if __name__ == "__main__":
    run([test_numa_fixture_advice, test_single_node_fixture_no_advice, test_tunable_change_event])
