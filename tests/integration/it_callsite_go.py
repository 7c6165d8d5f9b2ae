#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Call sites of a Go program: the report says what the unwinder can and cannot see.

tests/workloads/goleak (built here with `go build`, standard library only)
leaks from main.leakGoroutines (goroutines that grow their stacks and block
forever) and main.growMap ([]byte kept in a map). Go 1.19 maps heap and
goroutine stacks from its system stack (runtime.systemstack, morestack on
g0), so the unwinder stops at that switch, and the 64 MiB heap arenas are
mapped at addresses the runtime picks (never a vm_unmapped_area event). So
the test asserts that the sites are the Go runtime's, collapsed with the
switch labelled, and that the report explains why main.* is not named and
gives the runtime's commands (pprof, GODEBUG=gctrace=1); if a Go toolchain
lets the unwinder reach main.*, that frame must be the site's name. The
growth hypothesis is the anonymous-mmap one (Go has no [heap]).
memwatchd runs with its default intervals (5 s ticks, 60 s smaps tier,
30 s reconcile): a site is stored after two reconciles, so about a minute.
Skips (77) only without the Go toolchain (scripts/install-deps.sh installs
golang-go)."""
import os
import shutil
import subprocess
import time

from mwtest import check, cli, cli_json, go_build, skip, spawn, start_daemon, tmpdir


def build_goleak():
    if not shutil.which("go"):
        skip("no Go toolchain (golang-go): scripts/install-deps.sh installs it")
    return go_build("goleak")


def go_sites(db, pid):
    try:
        return cli_json("callsites", pid, "--db", db)["callsites"]["sites"]
    except RuntimeError:  # not in the store before its first tick
        return []


def test_go():
    if os.geteuid() != 0:
        skip("eBPF needs root")
    exe = build_goleak()
    db = os.path.join(tmpdir(), "mw.db")
    d = start_daemon(db, interval=5, wait_ticks=1, timeout=60)
    p = spawn([exe, "-for", "300"], stdout=subprocess.PIPE, text=True)
    p.stdout.readline()
    t0 = time.monotonic()
    deadline = t0 + 150
    sites = []
    while time.monotonic() < deadline:
        sites = go_sites(db, p.pid)
        if any(s.get("runtime") == "Go" and s.get("growth_per_hour", 0) > 0 for s in sites):
            break
        time.sleep(3)
    print(f"sites after {time.monotonic() - t0:.0f}s:")
    for s in sites:
        print(f"  {s['bytes'] >> 10} KiB x{s['count']} {len(s['frames'])} frames:"
              f" {s.get('name')} {s.get('collapsed')}")
    go = [s for s in sites if s.get("runtime") == "Go"]
    check(go, f"sites inside the Go runtime: {sites}")
    named = [s for s in go if s.get("name")]
    for s in named:  # reached through the runtime: only the program's Go code may be named
        check(s["name"].startswith("main."), f"a named Go site is main.*: {s}")
        check(s["next_step"].startswith(s["name"].split("+")[0] + " asked the Go runtime"),
              f"the step names it: {s['next_step']}")
    for s in go:
        check("[unknown]" not in s["frames"], f"no frame past the runtime's outermost: {s}")
        check("debug/pprof/heap" in s["next_step"] and "GODEBUG=gctrace=1" in s["next_step"]
              and f"kill -QUIT {p.pid}" in s["next_step"],
              f"the runtime's commands: {s['next_step']}")
    switched = [s for s in go if not s.get("name") and "Go stack switch" in s["collapsed"][0]]
    if not named:
        check(switched, f"a site ends at the runtime's stack switch: {go}")
    for s in switched:
        last = s["frames"][-1].split("+")[0]
        check(f"the unwinder stops at {last}" in s["next_step"]
              and last.startswith(("runtime.systemstack", "runtime.morestack", "runtime.mcall")),
              f"the step says where and why it stopped: {s['next_step']}")
    # The report: growth of anonymous memory (RSS: Go has no [heap]); the anonymous-mmap
    # hypothesis, once the smaps tier has points, cites the Go step.
    deadline = time.monotonic() + 120
    rep, hyps = {}, []
    while time.monotonic() < deadline:
        rep = cli_json("report", p.pid, "--db", db)
        hyps = [h for h in rep["hypotheses"] if h.get("reported")]
        if any(h["id"] in ("anon-mmap-leak", "oom-risk") for h in hyps):
            break
        time.sleep(5)
    print("hypotheses:", [(h["id"], h["score"], h.get("reported")) for h in rep["hypotheses"]])
    check(any(h["id"] in ("anon-mmap-leak", "oom-risk") for h in hyps),
          f"anonymous growth is reported: {rep.get('hypotheses')}")
    check(not any(h["id"] == "heap-growth" for h in hyps), "no heap ([heap], brk) verdict for Go")
    for h in hyps:
        if h["id"] == "anon-mmap-leak":
            cites = h["evidence"].get("call_sites", [])
            print("evidence:", cites)
            check(any("pprof" in c for c in cites), f"the hypothesis cites the Go step: {cites}")
    rc, text, _ = cli("callsites", p.pid, "--db", db)
    print(text)
    check(rc == 0 and ("Go stack switch" in text or "asked the Go runtime" in text),
          "the text names the switch")
    check("go tool pprof -top -sample_index=inuse_space" in text, "text gives the pprof command")
    p.kill()
    d.terminate()


if __name__ == "__main__":
    from mwtest import run
    run([test_go])
