#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Call sites of anonymous mappings: a workload built -O2 -fomit-frame-pointer
leaks mappings from leak_mapping() (called by grow_cache()) and maps then
unmaps from scratch_mapping(). memwatchd's call-site source must name the
leaking path as the top outstanding site and not list the unmapping one."""
import os
import time

from mwtest import (check, cli, cli_json, daemon_log, db_scalar, run, skip, start_daemon,
                    start_workload, stop, tmpdir)


SIZE = 1 << 20


def callsite_env(source):
    env = dict(os.environ, MEMWATCH_CALLSITE_SOURCE=source)
    env["MEMWATCH_CALLSITE_RECONCILE"] = "1"
    # Record every mapping of this slow workload: the rate limit has its own test.
    env["MEMWATCH_CALLSITE_RATE"] = "100"
    env["MEMWATCH_CALLSITE_BURST"] = "100"
    env["MEMWATCH_DEBUG"] = "1"
    return env


def lost_samples(db):
    row = db_scalar(db, "SELECT samples || ' samples, ' || taken || ' kept, ' || recorded ||"
                        " ' recorded, ' || skipped || ' skipped, ' || lost || ' lost'"
                        " FROM callsite_counters WHERE proc IS NULL ORDER BY tick DESC LIMIT 1")
    print("daemon counters (machine-wide):", row)
    return db_scalar(db, "SELECT lost FROM callsite_counters WHERE proc IS NULL"
                         " ORDER BY tick DESC LIMIT 1") or 0


def frames_of(site):
    return [f.split("+")[0] for f in site["frames"]]


def leaking_function_is_top_site(source):
    if os.geteuid() != 0:
        skip("eBPF and perf_event_open on tracepoints system-wide need root")
    d = tmpdir()
    db = os.path.join(d, "mw.db")
    daemon = start_daemon(db, interval=0.5, wait_ticks=1, env=callsite_env(source))
    via = "perf events" if source == "perf" else "eBPF"
    if source == "auto" and "from eBPF" not in daemon_log(db):
        skip(f"eBPF snapshots unavailable here: {daemon_log(db)[-2000:]}")
    check(f"from {via}" in daemon_log(db), f"snapshots come from {via}")
    w = start_workload("mmap_callers", "--rate", 5, "--size", SIZE, "--for", 60)
    time.sleep(6)
    rep = cli_json("callsites", w.pid, "--db", db)
    cs = rep["callsites"]
    check(cs["available"], f"call-site source recorded ({cs})")
    sites = cs["sites"]
    check(len(sites) >= 1, f"at least one outstanding site: {sites}")
    if sites:
        top = frames_of(sites[0])
        print("top site:", sites[0]["frames"])
        check(top[:4] == ["__mmap", "leak_mapping", "grow_cache", "main"],
              f"top site is __mmap <- leak_mapping <- grow_cache <- main: {top}")
        check(all(f.endswith("(mmap_callers)") for f in sites[0]["frames"][1:4]),
              "frames name the module")
        check(sites[0]["kind"] == "anon", f"anonymous mappings: {sites[0]['kind']}")
        check(sites[0]["count"] >= (8 if lost_samples(db) else 15),
              f"~5 leaked mappings a second ({sites[0]['count']})")
        check(sites[0]["bytes"] == sites[0]["count"] * SIZE,
              f"outstanding bytes = count x 1 MiB ({sites[0]['bytes']})")
        check(sites[0]["growth_per_hour"] > 0, "growing")
    lost = lost_samples(db)
    leaked = sites[0]["count"] if sites else 0
    for s in sites:
        if "scratch_mapping" not in frames_of(s):
            continue
        if lost:
            # The kernel dropped samples (another process on this machine stormed the
            # shared rings): a lost mmap cannot prove its address was unmapped before.
            print(f"note: {lost} samples lost machine-wide (another process stormed the"
                  f" shared rings): unmapping path shows x{s['count']}")
            check(s["count"] < leaked, f"the leaking path still ranks first ({s['count']} < {leaked})")
        else:
            check(False, f"the unmapping path is not outstanding: {s['frames']} x{s['count']}")
    rc, out, _ = cli("callsites", w.pid, "--db", db)
    check(rc == 0 and "leak_mapping+0x" in out and "grow_cache+0x" in out,
          f"text output names the path:\n{out}")
    check(lost or "scratch_mapping" not in out, "text output: no unmapping path")
    # A daemon restart takes the outstanding rows over: the leak is neither forgotten
    # nor duplicated, and keeps growing.
    stop(daemon)
    before = leaked
    daemon = start_daemon(db, interval=0.5, wait_ticks=1, env=callsite_env(source))
    # Growth shows within a few ticks (longer under emulation, as in the kernel matrix).
    deadline = time.time() + 30
    while True:
        time.sleep(1)
        rep = cli_json("callsites", w.pid, "--db", db)
        after = [s for s in rep["callsites"]["sites"] if "leak_mapping" in frames_of(s)]
        if len(after) != 1 or after[0]["count"] > before or time.time() > deadline:
            break
    check(len(after) == 1 and after[0]["count"] > before,
          f"after a restart the site goes on growing: {before} -> {after}")
    stop(w)
    # After exit every tracked mapping is gone: nothing outstanding any more.
    time.sleep(2.5)
    rep = cli_json("callsites", w.pid, "--db", db)
    check(rep["callsites"]["sites"] == [],
          f"exited: nothing outstanding ({rep['callsites']['sites']})\n{daemon_log(db)[-3000:]}")
    stop(daemon)


def test_leaking_function_is_top_site():
    leaking_function_is_top_site("auto")


def test_leaking_function_is_top_site_perf():
    """The fallback without eBPF: perf events on vm_unmapped_area."""
    leaking_function_is_top_site("perf")


def reuse_by_unsampled_mapping(source):
    """Each leak_mapping() call gets the address scratch_mapping() unmapped a moment
    before. With a budget of 2 snapshots a second, a token goes to a scratch mapping and
    the leak right after it, over budget, is never snapshotted; the scratch mapping must
    still end when its address is handed out again (eBPF: a record from the kernel;
    perf: the skipped sample itself)."""
    if os.geteuid() != 0:
        skip("eBPF and perf_event_open on tracepoints system-wide need root")
    db = os.path.join(tmpdir(), "mw.db")
    env = dict(callsite_env(source), MEMWATCH_CALLSITE_RATE="2", MEMWATCH_CALLSITE_BURST="4")
    daemon = start_daemon(db, interval=0.5, wait_ticks=1, env=env)
    w = start_workload("mmap_callers", "--rate", 5, "--size", SIZE, "--for", 60,
                       "--scratch-first", 1)
    time.sleep(8)
    sites = cli_json("callsites", w.pid, "--db", db)["callsites"]["sites"]
    print(source, [(s["count"], frames_of(s)[:3]) for s in sites])
    scratch = [s for s in sites if "scratch_mapping" in frames_of(s)]
    check(not scratch or lost_samples(db), f"no unmapped scratch mapping outstanding: {scratch}")
    stop(w)
    stop(daemon)


def test_reuse_by_unsampled_mapping():
    reuse_by_unsampled_mapping("auto")


def test_reuse_by_unsampled_mapping_perf():
    reuse_by_unsampled_mapping("perf")


def test_usage_errors():
    rc, _, err = cli("callsites")
    check(rc == 2, f"no pid: usage error ({rc})")
    rc, _, err = cli("callsites", "abc")
    check(rc == 2 and "process id" in err, f"bad pid: {err!r}")
    rc, _, err = cli("callsites", "1", "--db", "/nonexistent/dir/x.db")
    check(rc == 1 and "/nonexistent/dir/x.db" in err, f"missing db names it: {err!r}")
    rc, _, err = cli("callsites", "1", "--top", "0")
    check(rc == 2 and "--top" in err, f"bad --top: {err!r}")


if __name__ == "__main__":
    run([test_leaking_function_is_top_site, test_leaking_function_is_top_site_perf,
         test_reuse_by_unsampled_mapping, test_reuse_by_unsampled_mapping_perf, test_usage_errors])
