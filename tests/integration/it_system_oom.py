#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""OOM (acceptance 4): a process in a memory-limited cgroup (v1
memory.limit_in_bytes, or v2 memory.max) is killed; `memwatch oom` shows
the victim, its memory at the kill and its growth before it, seen through
the vmstat oom_kill counter and the victim's disappearance when no eBPF
event exists. On a quiet machine the forecast ranking follows the kernel's
/proc/PID/oom_score."""
import os
import signal as _signal
import sys
import signal
import time

from mwtest import (WORKLOADS, check, cli, cli_json, run, skip, spawn, start_daemon,
                    start_workload, stop, tmpdir, wait_for_ticks, ticks)

LIMIT = 192 << 20

# meson stops an overrunning test with SIGTERM: leave through finally/atexit so it cleans up.
_signal.signal(_signal.SIGTERM, lambda *_: sys.exit(1))


def make_cgroup():
    """A memory cgroup with LIMIT, v1 or v2; returns (dir, procs file)."""
    name = f"mwtest-oom-{os.getpid()}"
    v1 = "/sys/fs/cgroup/memory"
    if os.path.exists(os.path.join(v1, "memory.limit_in_bytes")):
        d = os.path.join(v1, name)
        os.mkdir(d)
        with open(os.path.join(d, "memory.limit_in_bytes"), "w") as f:
            f.write(str(LIMIT))
        return d
    for v2 in ("/sys/fs/cgroup", "/sys/fs/cgroup/unified"):
        ctl = os.path.join(v2, "cgroup.controllers")
        if os.path.exists(ctl) and "memory" in open(ctl).read().split():
            with open(os.path.join(v2, "cgroup.subtree_control"), "w") as f:
                f.write("+memory")
            d = os.path.join(v2, name)
            os.mkdir(d)
            with open(os.path.join(d, "memory.max"), "w") as f:
                f.write(str(LIMIT))
            with open(os.path.join(d, "memory.swap.max"), "w") as f:
                f.write("0")
            return d
    return None


def test_cgroup_oom_kill():
    if os.geteuid() != 0:
        skip("creating a memory cgroup needs root")
    cg = make_cgroup()
    if not cg:
        skip("no memory cgroup controller (v1 or v2) available")
    d = tmpdir()
    db = os.path.join(d, "mw.db")
    daemon = start_daemon(db, interval=0.5, wait_ticks=2)
    try:
        victim = spawn(["sh", "-c", f"echo $$ > {cg}/cgroup.procs && exec "
                        f"{WORKLOADS}/heap_grow --rate {24 << 20} --chunk 65536 --for 60"],
                       stdout=open(os.devnull, "w"))
        rc = victim.wait(timeout=60)
        check(rc == -signal.SIGKILL, f"the cgroup's OOM killer killed it (rc {rc})")
        wait_for_ticks(db, ticks(db) + 3, daemon)
        out = cli_json("oom", "--db", db)
        kills = [k for k in out["kills"] if k["pid"] == victim.pid]
        check(len(kills) == 1, f"the victim is listed: {out['kills']}")
        check((out["oom_kill_counter_rise"] or 0) >= 1, "the oom_kill counter rose")
        if kills:
            k = kills[0]
            check(k["comm"] == "heap_grow", f"victim command: {k['comm']}")
            check(k["seen_by"] in ("event", "oom_kill counter", "oom_kill counter + kernel log"),
                  k["seen_by"])
            if k["seen_by"] != "oom_kill counter":
                # The event or the kernel log gives the memory at the kill itself.
                check(k["anon_rss"] is not None and k["anon_rss"] > LIMIT // 2,
                      f"anon RSS at the kill: {k['anon_rss']}")
                check(k["oom_score_adj"] == 0, f"oom_score_adj at the kill: {k['oom_score_adj']}")
            check(k["rss"] is not None and k["rss"] > LIMIT // 2,
                  f"memory at the kill near the limit: {k['rss']}")
            b = k["before"]
            check(b["rss_start"] is not None and b["rss_last"] > b["rss_start"],
                  f"it grew before the kill: {b['rss_start']} -> {b['rss_last']}")
            check((b["rss_bytes_per_s"] or 0) > 4 << 20, f"growth rate: {b['rss_bytes_per_s']}")
            check(len(b["points"]) >= 3, "the victim's series before the kill")
            check(os.path.basename(cg) in k["cgroup"], f"its cgroup: {k['cgroup']}")
            check(k["cgroup_limit"] == LIMIT, f"its cgroup's limit: {k['cgroup_limit']}")
        rc, text, _ = cli("oom", "--db", db)
        check(rc == 0 and f"heap_grow[{victim.pid}]" in text and "before the kill: rss" in text,
              f"text names the victim and its growth:\n{text}")
    finally:
        stop(daemon)
        for _ in range(50):
            try:
                os.rmdir(cg)
                break
            except OSError:
                time.sleep(0.1)


def oom_score(pid):
    with open(f"/proc/{pid}/oom_score") as f:
        return int(f.read())


def test_forecast_matches_kernel():
    d = tmpdir()
    big = start_workload("flat", "--size", 300 << 20, "--for", 60)
    mid = start_workload("flat", "--size", 200 << 20, "--for", 60)
    biased = start_workload("flat", "--size", 100 << 20, "--for", 60)
    with open(f"/proc/{biased.pid}/oom_score_adj", "w") as f:
        f.write("800")
    out = cli_json("oom", "--live", "--sample", "1s")
    check(out["source"]["kind"] == "live", "no database: live")
    rank = out["forecast"]["ranking"]
    pids = [r["pid"] for r in rank]
    check(out["forecast"]["next_victim_pid"] == biased.pid,
          f"oom_score_adj 800 makes it the next victim: {rank[:3]}")
    if all(p.pid in pids for p in (big, mid, biased)):
        check(pids.index(biased.pid) < pids.index(big.pid) < pids.index(mid.pid),
              "ranked biased > 300 MiB > 200 MiB")
    ours = [r for r in rank if r["pid"] in (big.pid, mid.pid, biased.pid)]
    for r in ours:
        check(abs(r["score"] - r["kernel_oom_score"]) <= 1,
              f"our score matches the kernel's for {r['pid']}: {r['score']} vs {r['kernel_oom_score']}")
    scores = [oom_score(p.pid) for p in (biased, big, mid)]
    check(scores == sorted(scores, reverse=True), f"kernel agrees on the order: {scores}")
    top = rank[:10]
    for a, b in zip(top, top[1:]):
        check(a["kernel_oom_score"] + 1 >= b["kernel_oom_score"],
              f"ranking follows /proc/PID/oom_score: {a['pid']}:{a['kernel_oom_score']} before "
              f"{b['pid']}:{b['kernel_oom_score']}")
    rc, text, _ = cli("oom", "--live", "--sample", "1s")
    check(rc == 0 and f"next victim if memory ran out now: flat[{biased.pid}]" in text,
          f"text names the next victim:\n{text[:2000]}")
    for p in (big, mid, biased):
        stop(p)


if __name__ == "__main__":
    run([test_forecast_matches_kernel, test_cgroup_oom_kill])
