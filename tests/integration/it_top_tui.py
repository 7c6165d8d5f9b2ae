#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""memwatch top, the interactive view, driven in a real terminal (tmux)
against a database a real memwatchd recorded of a growing and a flat
workload. The recording runs in its own PID namespace with its own /proc,
so the database holds exactly those processes and the ordering checks
cannot be disturbed by whatever else runs on the host."""
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import time

import mwtest
from mwtest import (MEMWATCH, MEMWATCHD, WORKLOADS, check, cli, cli_json, daemon_log, run, skip,
                    spawn, start_daemon, start_workload, stop, tmpdir, ticks)
import mwtmux

def record(db, seconds=20):
    """memwatchd at 1 s in a fresh PID namespace with heap_grow (8 MiB/s) and flat."""
    hg = os.path.join(WORKLOADS, "heap_grow")
    fl = os.path.join(WORKLOADS, "flat")
    # lib/proc.c takes pid 2 and its children for kthreadd (true only in the
    # initial namespace): a throwaway process takes pid 2 first.
    script = (f"/bin/true; '{hg}' --rate 8388608 --for 120 >/dev/null & "
              f"'{fl}' --for 120 >/dev/null & "
              f"exec '{MEMWATCHD}' --foreground --db '{db}' --interval 1 2>>'{db}.log'")
    p = spawn(["unshare", "--pid", "--fork", "--mount-proc", "--kill-child", "sh", "-c", script],
              start_new_session=True)
    deadline = time.monotonic() + seconds + 60
    while ticks(db) < seconds and time.monotonic() < deadline:
        if p.poll() is not None:
            raise RuntimeError(f"recording ended early (rc {p.returncode}): "
                               f"{mwtest.daemon_log(db)}")
        time.sleep(0.5)
    check(ticks(db) >= seconds, f"{seconds} ticks recorded")
    # SIGTERM to the daemon (pid 1 of the namespace) ends the namespace too.
    os.killpg(p.pid, signal.SIGTERM)
    p.wait(timeout=30)


def rows(screen):
    """Process rows under the column titles, as lists of fields."""
    lines = screen.splitlines()
    for i, l in enumerate(lines):
        if re.match(r"\s*PID\s+USER\s+RSS\s+GROW/m", l):
            return [r.split() for r in lines[i + 1:] if re.match(r"\s*\d+\s", r)]
    return []


def cmd_of(row):
    return " ".join(row)


def size_of(field):
    """'195M' -> bytes ('-' -> -1), as top prints sizes."""
    m = re.fullmatch(r"([\d.]+)([KMGT]?)", field)
    if not m:
        return -1
    return float(m.group(1)) * 1024 ** " KMGT".index(m.group(2) or " ")


def test_tui():
    if not mwtmux.available():
        skip("tmux is not installed")
    if shutil.which("unshare") is None:
        skip("unshare (util-linux) is not installed")
    d = tmpdir()
    db = os.path.join(d, "mw.db")
    record(db)
    pane = mwtmux.Pane("mwtop", 120, 40)
    try:
        pane.type(f"'{MEMWATCH}' top --db '{db}' --delay 1")
        s = pane.wait_for(lambda t: len(rows(t)) >= 2, what="process rows")
        check(pane.alternate_on() == "1", "top runs on the alternate screen")
        check("memwatchd not recording" in s, "header says the daemon is not recording")
        top_line = s.splitlines()[0] if s else ""
        check(top_line.startswith(f"memwatch top  {socket.gethostname()}  "),
              f"header names the recording host: {top_line!r}")
        r = rows(s)
        check("heap_grow" in cmd_of(r[0]), f"grower first under the default sort: {r[:3]}")
        flat = [x for x in r if "flat" in cmd_of(x)]
        check(r[0][8] in ("HEAP", "OOM"), f"grower's HYP tag in the process view: {r[0]}")
        check(flat and flat[0][8].startswith("\u2581"),
              f"flat: blank HYP (analysed, nothing scored): {flat}")
        check(flat and (flat[0][3] in ("0", "-") or not flat[0][3].startswith("+")) or
              (flat and flat[0][3] == "+0"), f"flat shows no growth: {flat}")
        check(r[0][3].startswith("+") and r[0][3][-1] in "MG", f"grower's GROW/m is MiB/min: {r[0]}")
        # Region columns come from the daemon's smaps tier: a size, not "-".
        check(re.fullmatch(r"[\d.]+[KMG]", r[0][5]) is not None, f"grower's HEAP column: {r[0]}")
        # Sort: '>' moves to the next column (VSZ), 'P' by pid, 'M' by RSS.
        pane.keys(">")
        s = pane.wait_for(lambda t: "Sort: VSZ" in t, what="sort VSZ")
        pane.keys("P")
        s = pane.wait_for(lambda t: "Sort: PID" in t, what="sort PID")
        pids = [int(x[0]) for x in rows(s)]
        check(pids == sorted(pids) and pids[0] == 1 and len(pids) == 3,
              f"PID order, namespace init first: {pids}")
        pane.keys("M")
        s = pane.wait_for(lambda t: "Sort: RSS" in t, what="sort RSS")
        # Descending RSS (the memwatchd of an ASan build can outgrow the workload).
        rss = [size_of(x[2]) for x in rows(s)]
        check(rss == sorted(rss, reverse=True) and len(rss) == 3,
              f"largest RSS first: {[x[2] for x in rows(s)]}")
        pane.keys("G")
        pane.wait_for(lambda t: "Sort: GROW/m" in t, what="sort growth")
        # Search (F3): jumps to the match; Enter then opens that process.
        pane.keys("F3")
        pane.type("flat", enter=False)
        pane.keys("Enter")
        pane.keys("Enter")
        s = pane.wait_for(lambda t: "Process detail" in t, what="detail after search")
        check(re.search(r"PID \d+\s+flat", s) is not None, "search selected flat")
        pane.keys("Escape")
        pane.keys("Home")
        # Group (F5) by service/cgroup: all three share the test's cgroup.
        pane.keys("F5")
        s = pane.wait_for(lambda t: re.search(r"\[3\] ", t) is not None, what="group row")
        pane.keys("F5")
        pane.wait_for(lambda t: len(rows(t)) == 3, what="ungrouped")
        # Replay: ten ticks back, then live again.
        pane.keys("{")
        s = pane.wait_for(lambda t: "REPLAY" in t, what="replay header")
        pane.keys("L")
        pane.wait_for(lambda t: "REPLAY" not in t, what="live again")
        # Filter (F4) by name.
        pane.keys("F4")
        pane.type("flat", enter=False)
        pane.keys("Enter")
        s = pane.wait_for(lambda t: "Filter: flat" in t and rows(t), what="filter")
        r = rows(s)
        check(all("flat" in cmd_of(x) for x in r) and not any("heap_grow" in cmd_of(x) for x in r),
              f"filter shows only flat: {r}")
        # Filter on the grower and open its detail view.
        pane.keys("F4")
        pane.keys(*["BSpace"] * 6)
        pane.type("heap_grow", enter=False)
        pane.keys("Enter")
        pane.wait_for(lambda t: "Filter: heap_grow" in t and rows(t), what="filter heap_grow")
        pane.keys("Enter")
        # Wait for the whole view: the region block is drawn after the metrics table.
        heap_row = re.compile(r"^\s+heap\s+[\d.]+ \w?i?B", re.M)
        s = pane.wait_for(lambda t: "Process detail" in t and "Metric" in t and
                          (heap_row.search(t) or "no region breakdown" in t),
                          what="detail view")
        check("heap_grow" in s, "detail names the process")
        m = re.search(r"Growth: RSS \+([\d.]+)([KMG])/min", s)
        check(m is not None, f"detail shows the growth figure:\n{s}")
        check("no region breakdown" not in s and heap_row.search(s),
              f"region table in the detail view:\n{s}")
        rss = [l for l in s.splitlines() if l.startswith("rss ")]
        check(rss and "+" in rss[0], f"rss row shows a positive change: {rss}")
        # A heap grower: HEAP once the region tier has seen [heap] grow; over a
        # 20 s recording the steeper OOM-risk rule can rank first. Either way a
        # ranked hypothesis with its evidence, and the flat process has none.
        m = re.search(r"Top hypothesis: (\w+)", s)
        check(m and m.group(1) in ("HEAP", "OOM"), f"grower's top hypothesis: {m and m.group(0)}")
        first = re.search(r"^\s*([A-Z]+)\s+\d\.\d\d\s", s, re.M)
        check(first is not None and first.group(1) in ("HEAP", "OOM"),
              f"ranked hypotheses with scores in the detail view:\n{s}")
        # One verdict: the headline's tag is the first of the list under it.
        check(m and first and m.group(1) == first.group(1),
              f"headline {m and m.group(0)} and list #1 {first and first.group(0)} agree")
        check("Mann-Kendall" in s, "hypothesis evidence shown")
        # System and IPC views.
        pane.keys("Escape")
        pane.keys("2")
        s = pane.wait_for(lambda t: "Reclaim and paging" in t, what="system view")
        check("Memory:" in s and "Pressure (PSI" in s and "time to exhaustion" in s,
              f"system view sections:\n{s}")
        check("slab caches unreadable" not in s, f"slab caches shown:\n{s}")
        pane.keys("3")
        s = pane.wait_for(lambda t: "IPC objects" in t, what="IPC view")
        check("IPC objects unreadable" not in s, f"IPC objects listed:\n{s}")
        pane.keys("4")
        s = pane.wait_for(lambda t: "Next victims" in t, what="OOM view")
        check("MemAvailable" in s and "forecast unreadable" not in s,
              f"OOM forecast shown:\n{s}")
        pane.keys("F1")
        s = pane.wait_for(lambda t: "F10, q" in t, what="help")
        check("F4, \\" in s and "F6, >" in s, "help lists the keys")
        pane.keys("Escape")
        pane.keys("1")
        # Resize to 80x24: still a whole, well-formed screen.
        pane.resize(80, 24)
        # Wait for the whole redraw (titles included): capture-pane can catch it half done.
        s = pane.wait_for(lambda t: len(t.splitlines()) <= 24 and rows(t) and "F10Quit" in t
                          and re.search(r"PID\s+USER\s+RSS\s+GROW/m.*COMMAND", t) is not None,
                          what="80x24 redraw")
        check(all(len(l) <= 80 for l in s.splitlines()), "no line wider than 80 columns")
        check(re.search(r"PID\s+USER\s+RSS\s+GROW/m.*COMMAND", s) is not None,
              "column titles fit at 80 columns")
        pane.resize(120, 40)
        pane.wait_for(lambda t: len(t.splitlines()) > 24 and rows(t), what="120x40 redraw")
        pane.keys("q")

        def shell_back(t):
            lines = [l for l in t.splitlines() if l.strip()]
            return pane.alternate_on() == "0" and lines and lines[-1].strip() == "$"
        s = pane.wait_for(shell_back, what="alternate screen left, shell prompt back")
        check("memwatch top" not in s.split("top --db")[-1], "no top output left on the screen")
        pane.type("echo rc=$?")
        s = pane.wait_for(lambda t: "rc=" in t.split("echo rc=$?")[-1], what="exit code")
        check("rc=0" in s, "top exited 0")
        # PSS and USS do not fit 120 columns, but the column sorted by is always shown.
        pane.type(f"clear; '{MEMWATCH}' top --db '{db}' --delay 1 --sort pss")
        s = pane.wait_for(lambda t: "Sort: PSS" in t and len(rows(t)) >= 2, what="sort PSS")
        head = next((l for l in s.splitlines() if re.match(r"\s*PID\s+USER", l)), "")
        r = rows(s)
        idx = head.split().index("PSS") if "PSS" in head.split() else -1
        check(idx > 0 and "USS" not in head.split(), f"the PSS column, and not USS: {head!r}")
        # The workloads' PSS is the slow tier's latest reading (memwatchd leaves itself out: "-").
        pss = [size_of(x[idx]) for x in r] if idx > 0 else []
        known = [v for v in pss if v >= 0]
        check(len(known) >= 2 and known == sorted(known, reverse=True) and
              pss[:len(known)] == known, f"rows by PSS, largest first, unknown last: {r}")
        pane.keys("q")
    finally:
        pane.close()


def ipcmk(*args):
    """Make a SysV object with util-linux's ipcmk; its id."""
    r = subprocess.run(["ipcmk", *args], capture_output=True, text=True, check=True)
    return int(r.stdout.split(":")[-1])


def ipc_rows_ok(s, shmid, semid, how):
    """The IPC view names objects as memwatch ipc does: id and key, '-' for unknowns."""
    lines = s.splitlines()
    shm = [l for l in lines if f"id {shmid} key 0x" in l and "sysv-shm" in l]
    sem = [l for l in lines if f"id {semid} key 0x" in l and "sysv-sem" in l]
    check(len(shm) == 1 and "12.0 KiB" in shm[0] and re.search(
                  r"\s0\s+(pid \d+ \(unknown\)|-)\s+ORPHAN", shm[0]),
          f"{how}: shm by id and key, size, 0 attached, its creator's pid (ipcmk, exited;"
          f" '-' when outside the recording's pid namespace): {shm}\n{s}")
    check(len(sem) == 1 and "3 sems" in sem[0] and re.search(r"\s-\s+-\s*$", sem[0]),
          f"{how}: semaphore set sized in semaphores, '-' attach and creator: {sem}")
    check("sysv-shm:" not in s and "sysv-sem:" not in s, f"{how}: no internal idents shown")
    check(not re.search(r"\s-1\s", s) and not re.search(r"\s\?(\s|$)", s, re.M),
          f"{how}: no -1 nor '?' for unknowns:\n{s}")


def test_ipc_view():
    """The IPC view, from a recording and embedded, shows memwatch ipc's names."""
    if not mwtmux.available():
        skip("tmux is not installed")
    if shutil.which("unshare") is None or shutil.which("ipcmk") is None:
        skip("unshare or ipcmk (util-linux) is not installed")
    shmid = ipcmk("-M", "12288")
    semid = ipcmk("-S", "3")
    pane = None
    try:
        d = tmpdir()
        db = os.path.join(d, "mw.db")
        record(db, seconds=3)  # the first tick reads the slow tier, IPC included
        pane = mwtmux.Pane("mwipc", 120, 40)
        for how, args in (("store", f"--db '{db}'"), ("embedded", "--embedded")):
            pane.type(f"'{MEMWATCH}' top {args} --delay 1")
            pane.wait_for(lambda t: len(rows(t)) >= 1, what=f"{how}: process rows")
            pane.keys("3")
            s = pane.wait_for(lambda t: f"id {semid} key" in t, what=f"{how}: IPC view")
            ipc_rows_ok(s, shmid, semid, how)
            pane.keys("q")
            pane.wait_for(lambda t: pane.alternate_on() == "0", what=f"{how}: top quit")
    finally:
        if pane:
            pane.close()
        subprocess.run(["ipcrm", "-m", str(shmid), "-s", str(semid)], capture_output=True)


def test_store_batch_and_replay():
    """--batch from the database, and --at replays an earlier moment."""
    if shutil.which("unshare") is None:
        skip("unshare (util-linux) is not installed")
    d = tmpdir()
    db = os.path.join(d, "mw.db")
    record(db, seconds=8)
    r = subprocess.run([MEMWATCH, "top", "--db", db, "--batch"], capture_output=True, text=True)
    check(r.returncode == 0, f"batch from db: {r.stderr}")
    body = r.stdout.splitlines()
    i = next(k for k, l in enumerate(body) if l.lstrip().startswith("PID"))
    check("heap_grow" in body[i + 1], f"grower first in batch: {body[i + 1]}")
    first_ms = mwtest.db_scalar(db, "SELECT min(t_ms) FROM ticks")
    at = f"@{first_ms // 1000 + 2}"
    r2 = subprocess.run([MEMWATCH, "top", "--db", db, "--batch", "--at", at, "--sort", "rss"],
                        capture_output=True, text=True)
    check(r2.returncode == 0 and "(replay)" in r2.stdout, f"replay header: {r2.stdout[:200]}")
    def rss_of(out):
        for l in out.splitlines():
            if "heap_grow" in l:
                return l.split()[2]
    check(rss_of(r2.stdout) != rss_of(r.stdout), "replayed RSS differs from the latest")
    r3 = subprocess.run([MEMWATCH, "top", "--db", os.path.join(d, "missing.db"), "--batch"],
                        capture_output=True, text=True)
    check(r3.returncode == 1 and "missing.db" in r3.stderr, f"missing db named: {r3.stderr}")
    r4 = subprocess.run([MEMWATCH, "top", "--sort", "bogus", "--batch"], capture_output=True,
                        text=True)
    check(r4.returncode == 2 and "--sort 'bogus'" in r4.stderr, "bad sort key is a usage error")


def callsite_env():
    """Record every mapping of mmap_callers, reconciled each second (as it_callsite_mmap)."""
    return dict(os.environ, MEMWATCH_CALLSITE_RECONCILE="1", MEMWATCH_CALLSITE_RATE="100",
                MEMWATCH_CALLSITE_BURST="100")


def open_detail(pane, name):
    """Filter the process view down to name and open its detail view."""
    pane.keys("F4")
    pane.type(name, enter=False)
    pane.keys("Enter")
    pane.wait_for(lambda t: f"Filter: {name}" in t and rows(t), what=f"filter {name}")
    pane.keys("Enter")
    pane.wait_for(lambda t: "Process detail" in t and name in t, what=f"detail of {name}")


def scroll_to(pane, pred, what):
    """Scroll the detail view down until pred(screen) holds, as a person would."""
    for _ in range(40):
        s = pane.screen()
        if pred(s):
            return s
        pane.keys("Down", "Down", "Down")
        time.sleep(0.2)
    return pane.wait_for(pred, timeout=5, what=what)


def test_detail_callsites():
    """The detail view names the code holding a process's mappings (memwatchd's
    call-site source), and says why there are none when top samples /proc itself."""
    if not mwtmux.available():
        skip("tmux is not installed")
    if os.geteuid() != 0:
        skip("call-site snapshots (eBPF, perf events on tracepoints) need root")
    db = os.path.join(tmpdir(), "mw.db")
    daemon = start_daemon(db, interval=0.5, wait_ticks=1, env=callsite_env())
    w = None
    try:
        if "from eBPF" not in daemon_log(db) and "from perf events" not in daemon_log(db):
            skip(f"no call-site source here: {daemon_log(db)[-2000:]}")
        w = start_workload("mmap_callers", "--rate", 5, "--size", 1 << 20, "--for", 90)
        # Until the daemon has stored the leaking site (two reconciles after a mapping).
        deadline = time.monotonic() + 30
        sites = []
        while time.monotonic() < deadline:
            time.sleep(0.5)
            rc, out, _ = cli("callsites", w.pid, "--db", db, "--json")
            sites = json.loads(out)["callsites"]["sites"] if rc == 0 else []
            if any("leak_mapping" in f for s in sites for f in s["frames"]):
                break
        check(sites, f"memwatch callsites has the workload's sites: {sites}")
        # 30 lines: the call sites are below the fold, as on a laptop terminal.
        pane = mwtmux.Pane("mwcs", 120, 30)
        try:
            pane.type(f"'{MEMWATCH}' top --db '{db}' --delay 1")
            pane.wait_for(lambda t: "memwatchd recording" in t and rows(t), what="rows")
            open_detail(pane, "mmap_callers")
            s = scroll_to(pane, lambda t: "Call sites holding memory" in t and
                          re.search(r"^\s+#1 .* in \d+ mappings? \(anon\)", t, re.M) and
                          "main+0x" in t.split("Call sites holding memory")[-1],
                          what="call sites in the detail view")
            block = s.split("Call sites holding memory")[1]
            check("unreadable" not in block and "none recorded" not in block,
                  f"stored call sites, not a note:\n{block}")
            lines = [l.strip() for l in block.splitlines()]
            i = next(k for k, l in enumerate(lines) if l.startswith("#1 "))
            # The headline names the first application frame; glibc's mmap wrapper is
            # collapsed into one labelled line above the frames (lib/base/framerule.c).
            check(lines[i].startswith("#1 leak_mapping+0x"),
                  f"the site is the application's frame: {lines[i]!r}")
            frames = [l.split("+")[0] for l in lines[i + 1:i + 5]]
            check(frames == ["[glibc mmap]", "leak_mapping", "grow_cache", "main"],
                  f"[glibc mmap] then leak_mapping <- grow_cache <- main: {lines[i:i + 5]}")
            check(lines[i + 2].endswith("<- the site"), f"the site is marked: {lines[i + 2]!r}")
            check(all(l.split("   <-")[0].endswith("(mmap_callers)") for l in lines[i + 2:i + 5]),
                  f"frames name the module: {lines[i + 2:i + 5]}")
            check(re.search(r"^\s+#1 leak_mapping\+0x[0-9a-f]+ \(mmap_callers\): \d[\d.]* [KMG]iB "
                            r"in \d+ mappings \(anon\), growing \+", s, re.M) is not None,
                  f"bytes, count and growth of the site:\n{s}")
            pane.keys("q")
            pane.wait_for(lambda t: pane.alternate_on() == "0", what="top quit")
            # Sampling /proc itself, top has no call sites and says so.
            pane.type(f"'{MEMWATCH}' top --embedded --delay 1")
            pane.wait_for(lambda t: "embedded" in t and rows(t), what="embedded rows")
            open_detail(pane, "mmap_callers")
            s = scroll_to(pane, lambda t: "Call sites holding memory" in t and
                          "top is sampling /proc itself" in t, what="embedded call-site note")
            check("leak_mapping" not in s, "no call sites without a database")
            pane.keys("q")
        finally:
            pane.close()
    finally:
        if w:
            stop(w)
        stop(daemon)


def memcg_oom_kill():
    """A real OOM kill: heap_grow in a 32 MiB memory cgroup (v2 memory.max or
    v1 memory.limit_in_bytes). Returns the victim's pid, or None when no memory
    cgroup can be made."""
    v2 = os.path.exists("/sys/fs/cgroup/cgroup.controllers")
    base = "/sys/fs/cgroup" if v2 else "/sys/fs/cgroup/memory"
    cg = os.path.join(base, f"mw-top-oom-{os.getpid()}")
    try:
        os.mkdir(cg)
    except OSError:
        return None
    try:
        with open(os.path.join(cg, "memory.max" if v2 else "memory.limit_in_bytes"), "w") as f:
            f.write(str(32 << 20))
        procs = os.path.join(cg, "cgroup.procs")
        hg = os.path.join(WORKLOADS, "heap_grow")
        p = spawn(["sh", "-c", f"echo $$ > '{procs}' && exec '{hg}' --rate 200000000 --for 30"],
                  stdout=subprocess.DEVNULL)
        rc = p.wait(timeout=60)
        check(rc == -signal.SIGKILL, f"the grower was OOM-killed (rc {rc})")
        return p.pid
    finally:
        for _ in range(50):
            try:
                os.rmdir(cg)
                break
            except OSError:
                time.sleep(0.1)


def vm_oom_kills():
    with open("/proc/vmstat") as f:
        for l in f:
            if l.startswith("oom_kill "):
                return int(l.split()[1])
    return None


def test_oom_banner():
    """An OOM kill is highlighted in the header: live (embedded) and from a recording."""
    if vm_oom_kills() is None:
        skip("this kernel does not count oom_kill in /proc/vmstat")
    d = tmpdir()
    db = os.path.join(d, "mw.db")
    daemon = mwtest.start_daemon(db, interval=0.5, wait_ticks=2)
    pane = mwtmux.Pane("mwoom", 120, 30) if mwtmux.available() else None
    try:
        if pane:
            pane.type(f"'{MEMWATCH}' top --embedded --delay 0.5")
            s = pane.wait_for(lambda t: len(rows(t)) >= 1, what="rows")
            check("OOM KILL" not in s, "no banner before a kill")
        before = vm_oom_kills()
        victim = memcg_oom_kill()
        if victim is None:
            skip("cannot create a memory cgroup here")
        check(vm_oom_kills() > before, "the kernel counted the kill")
        if pane:
            s = pane.wait_for(lambda t: "OOM KILL at" in t, what="OOM banner (embedded)")
            pane.keys("q")
        mwtest.wait_for_ticks(db, ticks(db) + 2, daemon)
    finally:
        if pane:
            pane.close()
        mwtest.stop(daemon)
    r = subprocess.run([MEMWATCH, "top", "--db", db, "--batch"], capture_output=True, text=True)
    check("OOM KILL at" in r.stdout, f"recorded kill highlighted in the header: {r.stdout[:300]}")
    first_ms = mwtest.db_scalar(db, "SELECT min(t_ms) FROM ticks")
    r = subprocess.run([MEMWATCH, "top", "--db", db, "--batch", "--at", f"@{first_ms // 1000}"],
                       capture_output=True, text=True)
    check("OOM KILL" not in r.stdout, "no banner at a moment before the kill")
    if mwtmux.available():
        oom_view_agrees(db, victim)


def oom_view_agrees(db, victim):
    """top's OOM view lists what `memwatch oom` lists: the same history, eBPF or not."""
    oom = cli_json("oom", "--db", db)
    pane = mwtmux.Pane("mwoomview", 120, 40)
    try:
        pane.type(f"'{MEMWATCH}' top --db '{db}' --delay 1")
        pane.wait_for(lambda t: len(rows(t)) >= 1, what="rows")
        pane.keys("4")
        s = pane.wait_for(lambda t: "Next victims" in t, what="OOM view")
        kills = s.split("OOM kills")[1].split("Next victims")[0]
        check("OOM KILL at" in s, f"banner over the OOM view:\n{s}")
        check("  -   none" not in kills, f"the OOM view is not empty:\n{kills}")
        for k in oom["kills"]:
            m = re.search(rf"pid {k['pid']}\s+(\S+)\s+rss ", kills)
            check(m is not None and m.group(1) == k["comm"],
                  f"the kill memwatch oom lists ({k['pid']} {k['comm']}, seen by "
                  f"{k['seen_by']}) is in the OOM view:\n{kills}")
        if not any(k["pid"] == victim for k in oom["kills"]):
            # Killed between two ticks with no eBPF event: the counter still counts it.
            check("vmstat oom_kill rose by" in kills or oom["kills"],
                  f"the counted kill in the OOM view:\n{kills}")
        pane.keys("q")
    finally:
        pane.close()


if __name__ == "__main__":
    run([test_tui, test_ipc_view, test_store_batch_and_replay, test_detail_callsites, test_oom_banner])
