#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""memwatch top --batch in embedded mode: no daemon, no database; top
samples /proc itself and computes growth from its own samples."""
import json
import os
import socket
import subprocess

from mwtest import MEMWATCH, check, run, skip, start_workload, stop, tmpdir


def blocks(out):
    """Split batch output into refreshes: (header lines, rows as field lists)."""
    res = []
    for chunk in out.split("memwatch top - ")[1:]:
        lines = chunk.splitlines()
        i = next(k for k, l in enumerate(lines) if l.lstrip().startswith("PID "))
        res.append((lines[:i], [l.split() for l in lines[i + 1:] if l.strip()]))
    return res


def row(rows, pid):
    return next((r for r in rows if r[0] == str(pid)), None)


def test_embedded_batch():
    # Embedded mode is what top does when no daemon records the default database.
    if os.path.exists("/var/lib/memwatch/memwatch.db"):
        r = subprocess.run([MEMWATCH, "status", "--json"], capture_output=True, text=True)
        if r.returncode == 0 and json.loads(r.stdout).get("recording") is True:
            skip("a memwatchd records the default database on this host")
    g = start_workload("heap_grow", "--rate", 4 << 20, "--for", 60)
    f = start_workload("flat", "--for", 60)
    r = subprocess.run([MEMWATCH, "top", "--batch", "--iterations", "3", "--delay", "1"],
                       capture_output=True, text=True, errors="replace", timeout=60)
    check(r.returncode == 0, f"batch exit 0: {r.stderr}")
    b = blocks(r.stdout)
    check(len(b) == 3, f"three refreshes printed ({len(b)})")
    check(all("embedded sampling: no daemon, history starts" in h[0] for h, _ in b),
          "each header says history starts with this top")
    me = socket.gethostname()
    check(all(h[0].startswith(f"{me} - ") for h, _ in b),
          f"each header names this host ({me!r}): {b[0][0][:1]}")
    first, last = b[0][1], b[-1][1]
    gr0, gr = row(first, g.pid), row(last, g.pid)
    fr = row(last, f.pid)
    check(gr0 is not None and gr0[3] == "-", f"first refresh: no growth yet ({gr0})")
    check(gr is not None and gr[3].startswith("+") and gr[3][-1] in "KMG",
          f"grower has a positive growth figure ({gr})")
    check(fr is not None and not fr[3].startswith("+") or (fr and fr[3] in ("0", "+0")),
          f"flat shows no growth ({fr})")
    # The default sort is growth: the grower ranks above the flat process.
    pids = [x[0] for x in last]
    check(pids.index(str(g.pid)) < pids.index(str(f.pid)), "grower above flat")
    check("heap_grow" in " ".join(gr), "command shown")
    stop(g)
    stop(f)


def test_batch_options():
    d = tmpdir()
    r = subprocess.run([MEMWATCH, "top", "--batch", "--iterations", "0"], capture_output=True,
                       text=True)
    check(r.returncode == 2 and "--iterations '0'" in r.stderr, "iterations must be >= 1")
    r = subprocess.run([MEMWATCH, "top", "--delay", "abc", "--batch"], capture_output=True,
                       text=True)
    check(r.returncode == 2 and "--delay 'abc'" in r.stderr, "bad delay named")
    r = subprocess.run([MEMWATCH, "top"], capture_output=True, text=True, stdin=subprocess.DEVNULL)
    check(r.returncode == 2 and "--batch" in r.stderr, "not a terminal: suggests --batch")
    f = start_workload("flat", "--for", 30)
    r = subprocess.run([MEMWATCH, "top", "--batch", "--filter", "flat", "--sort", "pid"],
                       capture_output=True, text=True, errors="replace")
    rows = blocks(r.stdout)[0][1]
    check(rows and all("flat" in " ".join(x) for x in rows), f"filter keeps matching rows: {rows}")
    check(any(x[0] == str(f.pid) for x in rows), "the flat workload is listed")
    stop(f)
    del d


if __name__ == "__main__":
    run([test_embedded_batch, test_batch_options])
