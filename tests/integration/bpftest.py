# SPDX-License-Identifier: GPL-2.0-or-later
"""Shared bits of the eBPF integration tests (tests/it_bpf_*.py)."""
import os
import subprocess
import time

from mwtest import WORKLOADS, db_query, db_scalar, skip, spawn, wait_for_ticks


def require_root():
    if os.geteuid() != 0:
        skip("eBPF needs root (or CAP_BPF+CAP_PERFMON); running as uid %d" % os.geteuid())


def bpf_state(db):
    return db_scalar(db, "SELECT value FROM meta WHERE key = 'bpf'") or ""


def require_bpf_on(db, daemon_log):
    state = bpf_state(db)
    if state.startswith("off: not built"):
        skip("memwatch was built without eBPF support")
    if not state.startswith("on:"):
        raise RuntimeError(f"eBPF did not load: {state!r}\nlog:\n{daemon_log}")
    return state


def start_interactive(name, *args):
    """A workload that waits for a line on stdin before it acts."""
    p = spawn([os.path.join(WORKLOADS, name), *map(str, args)], stdin=subprocess.PIPE,
              stdout=subprocess.PIPE, text=True)
    line = p.stdout.readline()
    if not line.startswith("ready "):
        raise RuntimeError(f"{name}: no ready line (got {line!r}, rc={p.poll()})")
    return p


def go(p):
    p.stdin.write("go\n")
    p.stdin.flush()
    line = p.stdout.readline()
    if not line.startswith("done"):
        raise RuntimeError(f"workload did not finish its step: {line!r}")
    return line


def minflt(pid):
    with open(f"/proc/{pid}/stat") as f:
        rest = f.read().rsplit(")", 1)[1].split()
    return int(rest[7])


def max_tick(db):
    return db_scalar(db, "SELECT max(id) FROM ticks") or 0


def wait_more_ticks(db, n, daemon):
    wait_for_ticks(db, (db_scalar(db, "SELECT count(*) FROM ticks") or 0) + n, daemon)


def proc_id(db, pid, daemon, timeout=20):
    """The store's id of a live pid, once the daemon has recorded it."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        rows = db_query(db, "SELECT id FROM procs WHERE pid = ? AND exit_tick IS NULL", (pid,))
        if rows:
            return rows[-1][0]
        if daemon.poll() is not None:
            raise RuntimeError("memwatchd exited")
        time.sleep(0.1)
    raise RuntimeError(f"pid {pid} never recorded")


def wait_event(db, kind, pid, daemon, timeout=20):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        rows = db_query(db, "SELECT detail, proc FROM events WHERE kind = ? AND pid = ?",
                        (kind, pid))
        if rows:
            return rows
        if daemon.poll() is not None:
            raise RuntimeError("memwatchd exited")
        time.sleep(0.1)
    return []
