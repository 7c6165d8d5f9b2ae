#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Call sites name the application's code, through allocators and runtimes.

cpp_leak (C++, -O2, no frame pointers) keeps 1 MiB blocks from
leak::Cache::grow(), 4 a second, through operator new: on glibc, with
Debian's libjemalloc2 and with libgoogle-perftools4's tcmalloc
LD_PRELOADed. The site is that method, demangled, with the allocator's
frames collapsed into one labelled line, and the report's growth
hypothesis cites it. Debian's python3 leaking from a named function: the
site is the interpreter's allocator, and the report says so and gives the
tracemalloc command. The daemon runs with its default snapshot budget
(rate 2/s, burst 32, depth, stack slice); only the reconcile is shortened
(2 s instead of 30 s) so that a case takes seconds, not minutes."""
import os
import time

from mwtest import (WORKLOADS, check, cli, cli_json, skip, spawn, start_daemon,
                    start_workload, stop, tmpdir)
import subprocess

LIBDIR = "/usr/lib/x86_64-linux-gnu"
JEMALLOC = os.path.join(LIBDIR, "libjemalloc.so.2")
TCMALLOC = os.path.join(LIBDIR, "libtcmalloc.so.4")
METHOD = "leak::Cache::grow()"
PY_LEAK = """
import sys
keep = []
def leak_records():
    keep.append([str(i) * 4 for i in range(20000)])
print("ready", __import__("os").getpid(), flush=True)
import time
for _ in range(600):
    leak_records()
    time.sleep(0.25)
"""


def daemon():
    if os.geteuid() != 0:
        skip("eBPF and perf_event_open on tracepoints system-wide need root")
    db = os.path.join(tmpdir(), "mw.db")
    env = dict(os.environ, MEMWATCH_CALLSITE_RECONCILE="2")
    return db, start_daemon(db, interval=1, wait_ticks=1, env=env)


def poll_sites(db, pid, want, timeout=45):
    """The process's sites once want(sites) holds, or the last ones read at the deadline."""
    deadline = time.monotonic() + timeout
    sites = []
    while time.monotonic() < deadline:
        try:
            sites = cli_json("callsites", pid, "--db", db)["callsites"]["sites"]
        except RuntimeError:  # not in the store before its first tick
            sites = []
        if want(sites):
            break
        time.sleep(1)
    return sites


def evidence(db, pid):
    r = cli_json("report", pid, "--db", db)
    return [c for h in r["hypotheses"] for c in h.get("evidence", {}).get("call_sites", [])]


def cpp_case(preload, label, via):
    """via: the label the collapsed line must hold; None where the site is the first touch
    (tcmalloc grows by sbrk: the snapshot is the heap fault in memset, inside the method)."""
    if not os.path.exists(os.path.join(WORKLOADS, "cpp_leak")):
        skip("cpp_leak not built (no C++ compiler)")
    if preload and not os.path.exists(preload):
        skip(f"{preload} missing: scripts/install-deps.sh installs it")
    db, d = daemon()
    env = dict(os.environ, LD_PRELOAD=preload) if preload else None
    p = spawn([os.path.join(WORKLOADS, "cpp_leak"), "--rate", "4", "--for", "120"],
              stdout=subprocess.PIPE, text=True, env=env)
    p.stdout.readline()
    t0 = time.monotonic()
    sites = poll_sites(db, p.pid, lambda s: s and (s[0].get("name") or "").startswith(METHOD)
                       and s[0]["bytes"] >= 8 << 20)
    took = time.monotonic() - t0
    top = sites[0] if sites else {}
    print(f"{label}: top site {top.get('name')} after {took:.0f}s,"
          f" {top.get('bytes', 0) >> 20} MiB; collapsed: {top.get('collapsed')}")
    print(f"{label}: frames: {top.get('frames')}")
    name = top.get("name") or ""
    check(name.startswith(METHOD + "+0x") and name.endswith("(cpp_leak)"),
          f"{label}: the site is {METHOD} in the program: {top}")
    collapsed = top.get("collapsed", [])
    check(len(collapsed) >= 2 and collapsed[0].startswith("[") and collapsed[1] == name
          and (via is None or via in collapsed[0]),
          f"{label}: the frames above it are one line ({via}): {collapsed}")
    check(not any("_ZN" in f for f in top.get("frames", [])), "names demangled")
    rc, text, _ = cli("callsites", p.pid, "--db", db)
    print(text)
    check(f"#1 {METHOD}+0x" in text, f"{label}: text names the method: {text}")
    # The same stack is one entry: no other site names the same frames.
    keys = [tuple(s["frames"]) for s in sites]
    check(len(keys) == len(set(keys)), f"{label}: one entry per stack")
    # The growth hypothesis cites it (the hypothesis needs a few ticks of growth).
    deadline = time.monotonic() + 30
    cites = []
    while time.monotonic() < deadline and not any(c.startswith(METHOD) for c in cites):
        cites = evidence(db, p.pid)
        time.sleep(1)
    print(f"{label}: report evidence: {cites}")
    check(any(c.startswith(METHOD + "+0x") and (via is None or via in c) for c in cites),
          f"{label}: the report names {METHOD} via {label}: {cites}")
    stop(p)
    stop(d)


def test_glibc():
    cpp_case(None, "glibc", "glibc malloc")


def test_jemalloc():
    cpp_case(JEMALLOC, "jemalloc", "jemalloc")


def test_tcmalloc():
    cpp_case(TCMALLOC, "tcmalloc", None)


def test_python():
    py = "/usr/bin/python3"
    if not os.path.exists(py):
        skip("Debian's python3 is not installed")
    db, d = daemon()
    p = spawn([py, "-c", PY_LEAK], stdout=subprocess.PIPE, text=True)
    p.stdout.readline()
    sites = poll_sites(db, p.pid, lambda s: any(x.get("runtime") == "CPython" for x in s))
    py_sites = [s for s in sites if s.get("runtime") == "CPython"]
    for s in sites[:3]:
        print("python site:", s.get("name"), s["bytes"], s.get("collapsed"))
    check(py_sites, f"a site inside CPython's allocator: {sites}")
    if py_sites:
        check("PYTHONTRACEMALLOC=25" in py_sites[0]["next_step"]
              and f"/proc/{p.pid}/cmdline" in py_sites[0]["next_step"],
              f"the tracemalloc command: {py_sites[0]['next_step']}")
    deadline = time.monotonic() + 30
    cites = []
    while time.monotonic() < deadline and not any("tracemalloc" in c for c in cites):
        cites = evidence(db, p.pid)
        time.sleep(1)
    print("python report evidence:", cites)
    check(any(c.startswith("CPython's allocator grows") and "tracemalloc=25" in c
              for c in cites), f"the report says the interpreter's allocator grows: {cites}")
    stop(p)
    stop(d)


if __name__ == "__main__":
    import sys
    from mwtest import run
    tests = [test_glibc, test_jemalloc, test_tcmalloc, test_python]
    run([t for t in tests if len(sys.argv) < 2 or t.__name__ in sys.argv[1:]])
