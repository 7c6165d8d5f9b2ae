#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""PSS and USS per process: the slow tier sums them from smaps into
region_samples; `memwatch report` (text and JSON, from the store and
live from smaps_rollup) and `top --sort pss` show them. A parent with
48 MiB of private anonymous memory and 16 MiB of shared anonymous memory
forks two children that share both copy-on-write, so each one's PSS is
well below its RSS; the figures must agree with smem's (within 5 %) and
with the sharing worked out by hand. A database written before the
columns existed reads as unknown and gains them when a daemon opens it."""
import os
import re
import shutil
import sqlite3
import subprocess
import time

from mwtest import (check, cli, cli_json, db_query, run, skip, spawn, start_daemon, stop,
                    tmpdir)

MiB = 1 << 20

WORKLOAD = r"""
import mmap, os, sys, time
priv = bytearray(48 << 20)
for i in range(0, len(priv), 4096):
    priv[i] = 1
shared = mmap.mmap(-1, 16 << 20, flags=mmap.MAP_SHARED | mmap.MAP_ANONYMOUS)
for i in range(0, len(shared), 4096):
    shared[i] = 1
parent = os.getpid()
kids = []
for _ in range(2):
    pid = os.fork()
    if pid == 0:
        # fork copies no page tables of shared mappings: map the shmem pages in.
        sum(shared[i] for i in range(0, len(shared), 4096))
        # Leave with the parent, so a killed test leaves nothing behind.
        while os.getppid() == parent:
            time.sleep(0.2)
        os._exit(0)
    kids.append(pid)
print("ready", parent, *kids, flush=True)
sys.stdin.read()
"""


def start_sharing(d):
    path = os.path.join(d, "pss_share.py")
    with open(path, "w") as f:
        f.write(WORKLOAD)
    p = spawn(["python3", path], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    line = p.stdout.readline().split()
    if not line or line[0] != "ready":
        raise RuntimeError(f"workload not ready: {line}")
    time.sleep(0.5)  # the children have settled into their loop
    return p, [int(x) for x in line[1:]]


def smem_figures(pids):
    """{pid: (uss, pss) in bytes} from smem (kB)."""
    r = subprocess.run(["smem", "-H", "-c", "pid uss pss"], capture_output=True, text=True,
                       timeout=120)
    out = {}
    for ln in r.stdout.splitlines():
        f = ln.split()
        if len(f) == 3 and f[0].isdigit() and int(f[0]) in pids:
            out[int(f[0])] = (int(f[1]) * 1024, int(f[2]) * 1024)
    return out


def within(a, b, frac):
    return a is not None and b is not None and abs(a - b) <= frac * max(a, b)


def wait_pss(db, pids, timeout=40):
    """Each pid's latest stored (pss, uss, pss_anon, pss_shmem) once the slow tier read it."""
    deadline = time.monotonic() + timeout
    got = {}
    while time.monotonic() < deadline:
        try:
            rows = db_query(db, "SELECT p.pid, r.pss, r.uss, r.pss_anon, r.pss_shmem,"
                            " r.pss_file FROM region_samples r JOIN procs p ON p.id = r.proc"
                            " WHERE r.pss IS NOT NULL ORDER BY r.tick")
        except sqlite3.OperationalError:
            rows = []  # an older file the daemon has not opened (migrated) yet
        got = {row[0]: row[1:] for row in rows if row[0] in pids}
        if len(got) == len(pids):
            return got
        time.sleep(0.5)
    return got


def test_pss():
    if shutil.which("smem") is None:
        skip("smem is not installed (apt-get install smem)")
    d = tmpdir()
    db = os.path.join(d, "mw.db")
    p, pids = start_sharing(d)
    daemon = start_daemon(db, interval=0.5, extra=["--slow-interval", "1"], wait_ticks=2)
    got = wait_pss(db, pids)
    check(len(got) == 3, f"the slow tier stored PSS for the parent and both children: {got}")
    sm = smem_figures(pids)
    check(len(sm) == 3, f"smem lists the three processes: {sm}")
    for pid in pids:
        if pid not in got or pid not in sm:
            continue
        pss, uss, anon, shmem, file_ = got[pid]
        s_uss, s_pss = sm[pid]
        print(f"pid {pid}: memwatch pss {pss / MiB:.2f} MiB uss {uss / MiB:.2f} MiB "
              f"(anon {anon / MiB:.2f} shmem {shmem / MiB:.2f} file {file_ / MiB:.2f});"
              f" smem pss {s_pss / MiB:.2f} MiB uss {s_uss / MiB:.2f} MiB", flush=True)
        check(within(pss, s_pss, 0.05), f"pid {pid}: PSS {pss} within 5 % of smem's {s_pss}")
        check(within(uss, s_uss, 0.05) or abs(uss - s_uss) <= 512 << 10,
              f"pid {pid}: USS {uss} close to smem's {s_uss}")
        # Three processes share 48 MiB of anon memory copy-on-write and 16 MiB of shmem.
        check(15 * MiB <= anon <= 24 * MiB, f"pid {pid}: anon PSS ~16 MiB + own ({anon})")
        check(5 * MiB <= shmem <= 6 * MiB, f"pid {pid}: shmem PSS ~16/3 MiB ({shmem})")
        check(anon + shmem + file_ == pss, f"pid {pid}: the split adds up to PSS")
        check(uss < 4 * MiB, f"pid {pid}: little is private after the fork ({uss})")
    parent = pids[0]
    rep = cli_json("report", parent, "--db", db)
    ps = rep.get("pss") or {}
    rss = rep["metrics"]["rss"]["now"] or 0
    check(ps.get("pss") == got.get(parent, [None])[0] and ps.get("uss") is not None,
          f"report --json: the stored PSS ({ps})")
    check(ps.get("pss") is not None and ps["pss"] < rss * 0.6,
          f"PSS well below RSS for a shared process: {ps.get('pss')} vs {rss}")
    rc, out, _ = cli("report", parent, "--db", db)
    m = re.search(r"^  PSS\s+(\S+ \S+)", out, re.M)
    check(rc == 0 and m and re.search(r"^  USS\s+\S+ \S+", out, re.M) and "PSS split" in out,
          f"text report has PSS and USS rows: {m and m.group(0)!r}")
    # top: sorted by PSS the column shows at any width, with the stored figure.
    rc, out, _ = cli("top", "--batch", "--iterations", "1", "--db", db, "--sort", "pss")
    lines = out.splitlines()
    head = next((ln for ln in lines if ln.lstrip().startswith("PID ")), "")
    cols = head.split()
    row = next((ln.split() for ln in lines if ln.split()[:1] == [str(parent)]), None)
    check("PSS" in cols and "USS" in cols and row is not None,
          f"top --batch lists PSS and USS: {head!r}")
    if row is not None and "PSS" in cols:
        cell = row[cols.index("PSS")]
        check(re.fullmatch(r"[\d.]+M", cell) is not None
              and within(float(cell[:-1]) * MiB, got[parent][0], 0.05),
              f"top's PSS cell for the parent ({cell}) is the stored figure")
    # Live: one read of smaps_rollup, against smem again.
    rep = cli_json("report", parent, "--live", "--sample", "1s")
    lp = (rep.get("pss") or {}).get("pss")
    sm = smem_figures(pids)
    check(rep["source"]["kind"] == "live" and parent in sm and within(lp, sm[parent][1], 0.05),
          f"live report: smaps_rollup PSS {lp} within 5 % of smem's {sm.get(parent)}")
    check((rep.get("pss") or {}).get("pss_shmem") is not None, "live: the rollup's Pss_Shmem")
    stop(daemon)
    # A file from before the PSS columns: unknown, then the columns once a daemon opens it.
    old = os.path.join(d, "old.db")
    src, dst = sqlite3.connect(db), sqlite3.connect(old)
    src.backup(dst)
    src.close()
    for col in ("pss", "pss_anon", "pss_file", "pss_shmem", "uss", "swap", "swap_pss"):
        dst.execute(f"ALTER TABLE region_samples DROP COLUMN {col}")
    dst.commit()
    dst.close()
    rep = cli_json("report", parent, "--db", old)
    check("pss" in rep and rep["pss"] is None and rep["regions"],
          f"an older file: pss null, regions still read ({rep.get('pss')})")
    daemon = start_daemon(old, interval=0.5, extra=["--slow-interval", "1"], wait_ticks=1)
    got = wait_pss(old, pids)
    stop(daemon)
    check(len(got) == 3, f"the daemon added the columns to the older file and fills them: {got}")
    p.stdin.close()
    stop(p)


if __name__ == "__main__":
    run([test_pss])
