#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""IPC leaks on the real machine: orphaned SysV shared memory named by its
creator (acceptance 1), and message-queue backlogs named with their writer
(acceptance 2). Every object a test makes is removed afterwards, also on
failure."""
import atexit
import os
import signal
import subprocess
import sys
import time

from mwtest import (WORKLOADS, check, cli, cli_json, db_query, db_scalar, run, spawn, start_daemon, stop,
                    tmpdir)

SLOW = ("--slow-interval", "1")
_shm, _msg, _mq = set(), set(), set()


def _remove_all():
    for i in list(_shm):
        subprocess.run(["ipcrm", "-m", str(i)], capture_output=True)
    for i in list(_msg):
        subprocess.run(["ipcrm", "-q", str(i)], capture_output=True)
    for name in list(_mq):
        try:
            os.unlink("/dev/mqueue/" + name.lstrip("/"))
        except OSError:
            pass


atexit.register(_remove_all)
# meson stops a test that overruns with SIGTERM: exit through atexit so the objects still go.
signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))


def start_reporting(name, *args):
    """Start a workload; return (process, its lines before 'ready')."""
    p = spawn([os.path.join(WORKLOADS, name), *map(str, args)], stdout=subprocess.PIPE, text=True)
    lines = []
    while True:
        line = p.stdout.readline()
        if not line:
            raise RuntimeError(f"{name} exited before it was ready (rc={p.poll()})")
        if line.startswith("ready "):
            return p, lines
        lines.append(line.split())
        if lines[-1][0] == "shmid":
            _shm.add(int(lines[-1][1]))
        elif lines[-1][0] == "msqid":
            _msg.add(int(lines[-1][1]))
        elif lines[-1][0] == "mq":
            _mq.add(lines[-1][1])


def slow_ticks(db):
    return db_scalar(db, "SELECT count(*) FROM system_slow_ticks") or 0


def wait_slow_ticks(db, n, daemon, timeout=60):
    target = slow_ticks(db) + n
    deadline = time.monotonic() + timeout
    while slow_ticks(db) < target:
        if daemon.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError("the daemon stopped taking slow samples")
        time.sleep(0.2)


def test_orphaned_shm():
    d = tmpdir()
    db = os.path.join(d, "mw.db")
    daemon = start_daemon(db, interval=0.5, wait_ticks=2, extra=SLOW)
    try:
        p, lines = start_reporting("shm_orphan", "--count", 2, "--size", 4 << 20, "--linger", 3)
        ids = [int(f[1]) for f in lines if f[0] == "shmid"]
        check(len(ids) == 2, f"two segments made: {lines}")
        rc = p.wait(timeout=30)
        check(rc == 0, f"creator exited cleanly ({rc})")
        wait_slow_ticks(db, 3, daemon)

        out = cli_json("ipc", "--orphans", "--db", db)
        check(out["source"]["kind"] == "store", f"from the store: {out['source']}")
        mine = [o for o in out["objects"] if o["kind"] == "sysv-shm" and o["id"] in ids]
        check(len(mine) == 2, f"both segments listed as orphans: {mine}")
        for o in mine:
            check(o["cpid"] == p.pid, f"creator pid {o['cpid']} == {p.pid}")
            check(o["creator_comm"] == "shm_orphan", f"creator command: {o['creator_comm']}")
            check(o["creator_alive"] is False, "creator is gone")
            check(o["nattch"] == 0 and o["size"] == 4 << 20, f"0 attachments, 4 MiB: {o}")
            check(o["bytes"] == 4 << 20, f"all of it resident: {o['bytes']}")
        rc, text, _ = cli("ipc", "--orphans", "--db", db)
        check(rc == 0 and f"shm_orphan[{p.pid}] (exited)" in text, f"text names the creator:\n{text}")

        rep = cli_json("report", "--system", "--db", db)
        hyps = [h for h in rep["hypotheses"] if h["rule"] == "orphaned-shm"]
        check(len(hyps) == 1, f"orphaned-shm raised: {[h['rule'] for h in rep['hypotheses']]}")
        if hyps:
            ev = "\n".join(hyps[0]["evidence"])
            for i in ids:
                check(f"id {i}:" in ev, f"segment {i} in the evidence:\n{ev}")
            check(f"created by shm_orphan[{p.pid}] (exited)" in ev, f"creator named:\n{ev}")
            check(hyps[0]["item"] == 6, "DOMAIN item 6")
        # Attached segments are not orphans.
        check(all(o["orphan"] for o in out["objects"]), "--orphans lists only orphans")
    finally:
        stop(daemon)
        _remove_all()
    left = subprocess.run(["ipcs", "-m"], capture_output=True, text=True).stdout
    check(all(f" {i} " not in left for i in ids), "segments removed afterwards")


def test_backlog():
    d = tmpdir()
    db = os.path.join(d, "mw.db")
    daemon = start_daemon(db, interval=0.5, wait_ticks=2, extra=SLOW)
    try:
        w, lines = start_reporting("ipc_writer", "--interval", 0.8, "--msgsize", 512)
        msqid = [int(f[1]) for f in lines if f[0] == "msqid"][0]
        mq = [f[1] for f in lines if f[0] == "mq"][0]
        wait_slow_ticks(db, 9, daemon)
        rep = cli_json("report", "--system", "--db", db)
        backlog = [h for h in rep["hypotheses"] if h["rule"] == "ipc-backlog"]
        sysv = [h for h in backlog if f"id {msqid}" in h["subject"]]
        posix = [h for h in backlog if h["subject"] == f"POSIX message queue {mq}"]
        check(len(sysv) == 1, f"SysV queue {msqid} backlog raised: {backlog}")
        check(len(posix) == 1, f"POSIX queue {mq} backlog raised: {backlog}")
        for h in sysv + posix:
            check(h["pid"] == w.pid and h["comm"] == "ipc_writer",
                  f"writer named: {h['pid']} {h['comm']} (want {w.pid})")
            check(f"ipc_writer[{w.pid}]" in h["title"], f"title names the writer: {h['title']}")
            check(h["item"] == 8, "DOMAIN item 8")
        # Queues have no creator pid: the first writer seen stands for it, for process reports.
        for ident_like, what in ((f"sysv-msg:%:{msqid}:%", "SysV"), (f"posix-mqueue:{mq.lstrip('/')}:%", "POSIX")):
            rows = db_query(db, "SELECT p.pid FROM ipc_objects o JOIN procs p ON p.id = o.creator"
                                " WHERE o.ident LIKE ?", (ident_like,))
            check(rows == [(w.pid,)], f"{what} queue's creator is the writer: {rows}")
        q = cli_json("ipc", "--db", db)
        mine = [o for o in q["objects"] if o["kind"] == "sysv-msg" and o["id"] == msqid]
        check(len(mine) == 1 and mine[0]["lpid"] == w.pid and mine[0]["bytes"] > 0,
              f"queue listed with its last sender: {mine}")
        check(len(mine) == 1 and (mine[0]["bytes_per_s"] or 0) > 0, "queue growth is positive")
    finally:
        stop(daemon)
        _remove_all()
    left = subprocess.run(["ipcs", "-q"], capture_output=True, text=True).stdout
    check(f" {msqid} " not in left, "queue removed afterwards")
    check(not os.path.exists("/dev/mqueue/" + mq.lstrip("/")), "POSIX queue removed afterwards")


if __name__ == "__main__":
    run([test_orphaned_shm, test_backlog])
