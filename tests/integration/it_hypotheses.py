#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Ranked hypotheses on real processes: every growth workload runs under a
real memwatchd (short interval, fast region tier) for about a minute, then
`memwatch report PID --json` must rank the matching hypothesis first, in the
right region, with a time to exhaustion; the controls (flat, a sawtooth cache,
grow-then-flat) must raise nothing at or above the reporting threshold."""
import atexit
import os
import signal
import subprocess
import time

from mwtest import (WORKLOADS, check, cli_json, memory_cgroup, remove_cgroup, run, spawn,
                    start_in_cgroup,
                    start_daemon, start_workload, stop, tmpdir)

RECORD_S = 60

# name, args, expected tag, expected region(s), expect a time to exhaustion
GROWTH = [
    ("heap_grow", ["--rate", 2 << 20], "HEAP", {"heap"}, True),
    ("mmap_leak", ["--rate", 8, "--chunk", 256 * 1024], "MMAP", {"anon"}, True),
    ("thread_leak", ["--rate", 2], "THREADS", {"thread_stacks"}, False),
    ("stack_grow", ["--rate", 64 * 1024], "STACK", {"stack"}, True),
    ("dlopen_leak", ["--rate", 2], "FILES", {"file", "file_exec"}, False),
    ("sysv_shm_leak", ["--rate", 2, "--chunk", 1 << 20], "SHM", {"shm"}, True),
    ("posix_shm_leak", ["--rate", 2, "--chunk", 1 << 20], "SHM", {"shm"}, True),
    ("fd_leak", ["--kind", "socket", "--rate", 10], "FDS", {"kernel"}, False),
    ("fd_leak", ["--kind", "pipe", "--rate", 10], "FDS", {"kernel"}, False),
]
CONTROLS = [
    ("flat", ["--size", 8 << 20]),
    # A tooth every ~5.3 s: not a multiple of the 2 s region pass, so samples see the drops
    # (a 2 s tooth sampled every 2 s aliases into an apparent slow rise).
    ("sawtooth", ["--base", 8 << 20, "--cap", 16 << 20, "--rate", 3 << 20]),
    ("grow_then_flat", ["--grow-for", 12, "--rate", 2 << 20]),
]
FD_IDS = {"socket": "fd-leak-sockets", "pipe": "fd-leak-pipes"}

state = {}
CG_LIMIT = 1 << 30


def limited_cgroup():
    """A child of our own memory cgroup (v1 or v2) with a 1 GiB limit; None when not possible."""
    try:
        path, version = memory_cgroup(f"mw-it-hyp-{os.getpid()}", CG_LIMIT)
    except OSError as e:
        print(f"no limited memory cgroup ({e}): that check is skipped", flush=True)
        return None
    print(f"limited cgroup v{version}: {path}", flush=True)
    return path


def record():
    d = tmpdir()
    db = os.path.join(d, "mw.db")
    daemon = start_daemon(db, interval=0.5, extra=["--slow-interval", "2"], wait_ticks=1)
    procs = []
    for name, args, *rest in GROWTH + CONTROLS:
        procs.append((name, args, rest, start_workload(name, *args, "--for", RECORD_S + 60)))
    cg = limited_cgroup()
    limited = start_in_cgroup(cg, "heap_grow", "--rate", 2 << 20, "--for", RECORD_S + 60) \
        if cg else None
    time.sleep(RECORD_S)
    reports = []
    for name, args, rest, p in procs:
        rep = cli_json("report", p.pid, "--db", db, "--since", "10m")
        reports.append((name, args, rest, rep))
    if limited:
        state["limited"] = cli_json("report", limited.pid, "--db", db, "--since", "10m")
        stop(limited)
        remove_cgroup(cg)
    for *_, p in procs:
        stop(p)
    stop(daemon)
    state["reports"] = reports


def reported(rep):
    return [h for h in rep["hypotheses"] if h["score"] >= rep["verdict"]["threshold"]]


def test_growth_ranked_first():
    record()
    for name, args, rest, rep in state["reports"]:
        if not rest:
            continue
        tag, regions, want_tte = rest
        what = f"{name} {args}"
        top = reported(rep)
        summary = [(h["id"], round(h["score"], 2)) for h in rep["hypotheses"][:4]]
        print(f"{what}: {summary}", flush=True)
        if not check(top, f"{what}: a hypothesis is reported ({summary})"):
            continue
        h = top[0]
        check(h["tag"] == tag, f"{what}: top is {tag}, got {summary}")
        check(h["region"] in regions, f"{what}: region {h['region']} in {regions}")
        check(rep["verdict"]["leak_suspected"] and rep["verdict"]["top"] == h["tag"],
              f"{what}: verdict names the top hypothesis")
        ev = h["evidence"]
        check(ev["slope_per_h"] > 0 and ev["mk_p"] < 0.01,
              f"{what}: evidence rises steadily ({ev['slope_per_h']}, p={ev['mk_p']})")
        check(str(rep["process"]["pid"]) in h["next_step"], f"{what}: next step names the pid")
        if want_tte:
            tte = h["time_to_exhaustion_s"]
            check(tte is not None and tte > 0 and h["exhaustion_basis"],
                  f"{what}: time to exhaustion ({tte}, {h['exhaustion_basis']})")
        if name == "fd_leak":
            kind = args[1]
            check(h["id"] == FD_IDS[kind], f"{what}: split by kind ({h['id']})")
        # The breakdown comes from smaps: the region tier ran.
        check(any(r["region"] == "heap" for r in rep["regions"]),
              f"{what}: region rows from smaps")


def test_cgroup_limit():
    rep = state.get("limited")
    if rep is None:
        print("skipped: no limited cgroup", flush=True)
        return
    # Close to its cgroup limit the OOM-risk hypothesis may rightly rank first; the
    # growth hypothesis that explains it must be HEAP.
    top = [h for h in reported(rep) if h["tag"] != "OOM"]
    check(top and top[0]["tag"] == "HEAP",
          f"heap_grow in a limited cgroup: HEAP first among growth hypotheses"
          f" ({[(h['tag'], round(h['score'], 3)) for h in reported(rep)]}; all, below the"
          f" threshold too: {[(h['tag'], round(h['score'], 3), h.get('evidence')) for h in rep['hypotheses']]};"
          f" {len(rep.get('regions', []))} region rows)")
    lim = rep["limits"]
    check(lim["cgroup_limit"] == CG_LIMIT and lim["cgroup_path"].endswith(f"mw-it-hyp-{os.getpid()}"),
          f"the cgroup limit is found: {lim}")
    if top:
        h = top[0]
        used = lim["cgroup_usage"] or 0
        want = (CG_LIMIT - used) / (h["evidence"]["slope_per_h"] / 3600)
        check(h["exhaustion_basis"] == "cgroup memory limit",
              f"exhaustion against the cgroup, not MemAvailable: {h['exhaustion_basis']}")
        check(h["time_to_exhaustion_s"] and abs(h["time_to_exhaustion_s"] - want) < 0.05 * want,
              f"time to exhaustion {h['time_to_exhaustion_s']} ~ room/rate {want}")


def test_controls_quiet():
    check(state.get("reports"), "the recording ran")
    for name, args, rest, rep in state.get("reports", []):
        if rest:
            continue
        print(f"control {name}: {[(h['id'], round(h['score'], 2)) for h in rep['hypotheses'][:3]]}"
              f" -- {rep['verdict']['no_leak_reason']}", flush=True)
        top = reported(rep)
        check(not top, f"control {name}: nothing reported, got "
              f"{[(h['id'], h['score'], h['note']) for h in top]}")
        check(not rep["verdict"]["leak_suspected"] and rep["verdict"]["no_leak_reason"],
              f"control {name}: says why no leak was found")


if __name__ == "__main__":
    run([test_growth_ranked_first, test_cgroup_limit, test_controls_quiet])
