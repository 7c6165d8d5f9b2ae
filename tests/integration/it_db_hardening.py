#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""The database path cannot be hijacked (links, other users' files, loose
modes), the CLI finds the daemon's database and says which it used, errors
say what is true (permission denied, no such database), and the counters
stay right while the disk is full."""
import grp
import os
import pwd
import re
import subprocess
import time

from mwtest import (MEMWATCH, MEMWATCHD, check, cli, run, skip, spawn, start_daemon, stop,
                    tmpdir, wait_for_ticks)

NOBODY = pwd.getpwnam("nobody")


def daemon_once(db, timeout=20):
    """memwatchd expected to refuse at start: (rc, stderr)."""
    r = subprocess.run([MEMWATCHD, "--foreground", "--config", "/dev/null", "--db", db,
                        "--interval", "0.2"], capture_output=True, text=True, timeout=timeout)
    return r.returncode, r.stderr


def shared_dir():
    """A directory nobody can write in (sticky, like /tmp), for another user's files."""
    d = tmpdir()
    os.chmod(d, 0o1777)
    return d


def test_foreign_file_refused():
    d = shared_dir()
    db = os.path.join(d, "mw.db")
    with open(db, "wb") as f:
        f.write(b"planted")
    os.chown(db, NOBODY.pw_uid, -1)
    os.chmod(db, 0o666)
    rc, err = daemon_once(db)
    check(rc != 0, f"refused a file nobody made (rc {rc})")
    check("owned by nobody" in err and "0666" in err, f"names owner and mode: {err!r}")
    st = os.stat(db)
    check(st.st_uid == NOBODY.pw_uid and st.st_mode & 0o777 == 0o666, "owner and mode untouched")
    with open(db, "rb") as f:
        check(f.read() == b"planted", "contents untouched")
    check(not os.path.exists(db + "-wal"), "no WAL made next to it")


def test_own_loose_file_tightened():
    d = tmpdir()
    db = os.path.join(d, "mw.db")
    open(db, "wb").close()
    os.chmod(db, 0o644)
    p = start_daemon(db, interval=0.2, extra=["--config", "/dev/null"], wait_ticks=1)
    stop(p)
    check(os.stat(db).st_mode & 0o777 == 0o640, f"0644 tightened ({oct(os.stat(db).st_mode)})")
    with open(db + ".log", errors="replace") as f:
        check("tightened" in f.read(), "with a notice")
    open(db + "2", "wb").close()
    os.chmod(db + "2", 0o666)
    rc, err = daemon_once(db + "2")
    check(rc != 0 and "0666" in err, f"own 0666 file refused: {err!r}")


def test_links_refused():
    d = tmpdir()
    target = os.path.join(d, "elsewhere.db")
    db = os.path.join(d, "mw.db")
    os.symlink(target, db)
    rc, err = daemon_once(db)
    check(rc != 0 and "symbolic link" in err and target in err,
          f"dangling link refused, target named: {err!r}")
    check(not os.path.exists(target), "nothing created where the link points")
    # The WAL: a link placed beside a real database.
    db2 = os.path.join(d, "real.db")
    wal_target = os.path.join(d, "stolen-wal")
    os.symlink(wal_target, db2 + "-wal")
    rc, err = daemon_once(db2)
    check(rc != 0 and db2 + "-wal" in err and "symbolic link" in err, f"-wal link: {err!r}")
    check(not os.path.exists(wal_target), "nothing created at the WAL link's target")
    # A directory that is a link.
    real = os.path.join(d, "realdir")
    os.mkdir(real, 0o750)
    os.symlink(real, os.path.join(d, "linkdir"))
    rc, err = daemon_once(os.path.join(d, "linkdir", "mw.db"))
    check(rc != 0 and "symbolic link" in err, f"linked directory refused: {err!r}")
    # World-writable, not sticky.
    ww = os.path.join(d, "open")
    os.mkdir(ww)
    os.chmod(ww, 0o777)
    rc, err = daemon_once(os.path.join(ww, "mw.db"))
    check(rc != 0 and "sticky" in err, f"world-writable directory refused: {err!r}")


def test_new_files_modes_and_group():
    made = False
    try:
        grp.getgrnam("memwatch")
    except KeyError:
        # Transient: the group is removed again below.
        made = subprocess.run(["groupadd", "--system", "memwatch"]).returncode == 0
    try:
        gid = grp.getgrnam("memwatch").gr_gid
    except KeyError:
        gid = None
    try:
        d = tmpdir()
        db = os.path.join(d, "new", "sub", "mw.db")
        log = open(os.path.join(d, "log"), "ab")
        p = spawn([MEMWATCHD, "--foreground", "--config", "/dev/null", "--db", db,
                   "--interval", "0.2"], stderr=log)
        log.close()
        wait_for_ticks(db, 2, p)
        for f in (db, db + "-wal", db + "-shm"):
            st = os.stat(f)
            check(st.st_mode & 0o777 == 0o640, f"{f} is 0640 ({oct(st.st_mode & 0o777)})")
            if gid is not None:
                check(st.st_gid == gid, f"{f} group memwatch ({st.st_gid} != {gid})")
        dst = os.stat(os.path.dirname(db))
        check(dst.st_mode & 0o777 == 0o750, f"directory 0750 ({oct(dst.st_mode & 0o777)})")
        stop(p)
    finally:
        if made:
            subprocess.run(["groupdel", "memwatch"])


def as_nobody(*args, env=None):
    r = subprocess.run(["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups",
                        MEMWATCH, *map(str, args)], capture_output=True, text=True,
                       timeout=120, env=env)
    return r.returncode, r.stdout, r.stderr


def test_unreadable_is_permission_denied():
    d = tmpdir()
    os.chmod(d, 0o755)
    db = os.path.join(d, "mw.db")
    p = start_daemon(db, interval=0.2, extra=["--config", "/dev/null"], wait_ticks=2)
    stop(p)
    os.chmod(db, 0o640)
    for cmd in (["status"], ["report", "1"], ["ipc"], ["oom"], ["callsites", "1"],
                ["top", "--batch", "--iterations", "1"]):
        rc, _, err = as_nobody(*cmd, "--db", db)
        check(rc == 1 and f"permission denied: {db}" in err and "mode 0640" in err and
              "group memwatch" in err, f"{cmd[0]} as nobody: rc {rc}, {err!r}")
    # Through the environment too, not only --db.
    env = dict(os.environ, MEMWATCH_DB=db)
    rc, _, err = as_nobody("status", env=env)
    check(rc == 1 and "permission denied" in err, f"$MEMWATCH_DB unreadable: {err!r}")


def test_named_missing_is_an_error():
    for cmd in (["status"], ["report", str(os.getpid())], ["ipc"], ["oom"], ["callsites", "1"]):
        rc, out, err = cli(*cmd, "--db", "/nonexistent.db")
        check(rc == 1 and "no such database: /nonexistent.db" in err,
              f"{cmd[0]} --db /nonexistent.db: rc {rc}, {err!r}")
    env = dict(os.environ, MEMWATCH_DB="/nonexistent.db")
    r = subprocess.run([MEMWATCH, "report", str(os.getpid())], capture_output=True, text=True,
                       env=env, timeout=60)
    check(r.returncode == 1 and "no such database" in r.stderr, f"$MEMWATCH_DB missing: {r.stderr!r}")


def test_env_and_advertised_path():
    d = tmpdir()
    db = os.path.join(d, "elsewhere.db")
    p = start_daemon(db, interval=0.2, extra=["--config", "/dev/null"], wait_ticks=2)
    rc, out, err = cli("status")
    check(rc == 0 and f"database:   {db} (from running daemon pid {p.pid}" in out,
          f"status finds the running daemon's database: {out!r} {err!r}")
    check(f"recording:  yes, memwatchd pid {p.pid}" in out, "and says it is recording")
    rc, out, err = cli("report", str(p.pid), "--json")
    check(rc == 0 and '"db_from": "running daemon pid %d"' % p.pid in out,
          f"report without --db reads it ({err!r})")
    check('"kind": "store"' in out, "from the store, not sampled live")
    env = dict(os.environ, MEMWATCH_DB=db)
    r = subprocess.run([MEMWATCH, "status"], capture_output=True, text=True, env=env)
    check(f"(from $MEMWATCH_DB" in r.stdout, f"$MEMWATCH_DB named: {r.stdout!r}")
    rc, out, _ = cli("status", "--db", db)
    check("(from --db" in out, "--db named")
    state = os.path.join(os.environ["MEMWATCH_RUNTIME_DIR"], "memwatchd.state")
    check(os.path.exists(state), "runtime state file written")
    stop(p)
    check(not os.path.exists(state), "and removed at a clean exit")


def proc_cpu_s(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def test_cpu_figure_matches_proc():
    d = tmpdir()
    db = os.path.join(d, "mw.db")
    p = start_daemon(db, interval=0.1, extra=["--config", "/dev/null"], wait_ticks=5)
    deadline = time.monotonic() + 60
    while proc_cpu_s(p.pid) < 1.0 and time.monotonic() < deadline:
        time.sleep(0.5)
    for _ in range(5):
        before = proc_cpu_s(p.pid)
        rc, out, _ = cli("status", "--db", db)
        after = proc_cpu_s(p.pid)
        m = re.search(r"daemon CPU: ([0-9.]+) s", out)
        if m and before * 0.9 <= float(m.group(1)) <= after * 1.1:
            break
    check(m is not None, f"status shows the daemon's CPU: {out!r}")
    if m:
        got = float(m.group(1))
        check(before * 0.9 <= got <= after * 1.1,
              f"status CPU {got:.3f} s within 10 % of /proc utime+stime {before:.3f}..{after:.3f}")
    stop(p)


def test_counters_during_outage():
    if os.geteuid() != 0:
        skip("needs root to mount a small tmpfs")
    d = tmpdir()
    mnt = os.path.join(d, "small")
    os.mkdir(mnt, 0o750)
    r = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=3m,mode=0750", "tmpfs", mnt],
                       capture_output=True, text=True)
    if r.returncode != 0:
        skip(f"cannot mount tmpfs: {r.stderr.strip()}")
    try:
        db = os.path.join(mnt, "mw.db")
        churn = spawn(["sh", "-c", "while :; do sleep 0.05 & sleep 0.02; done"])
        log = open(os.path.join(d, "daemon.log"), "ab")
        p = spawn([MEMWATCHD, "--foreground", "--config", "/dev/null", "--db", db,
                   "--interval", "0.1"], stderr=log)
        log.close()
        wait_for_ticks(db, 5, p)
        filler = os.path.join(mnt, "filler")
        with open(filler, "wb", buffering=0) as f:
            try:
                while True:
                    f.write(b"\0" * 65536)
            except OSError:
                pass
        dropped, out = 0, ""
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            rc, out, _ = cli("status", "--db", db)
            m = re.search(r"dropped:    (\d+) ticks", out)
            dropped = int(m.group(1)) if m else 0
            if dropped >= 3:
                break
            time.sleep(0.3)
        check(dropped >= 3, f"status shows dropped ticks during the outage: {out!r}")
        check("not recording:" in out, "and says it is not recording now")
        with open(os.path.join(d, "daemon.log"), errors="replace") as f:
            text = f.read()
        check("no transaction is active" not in text, f"no failed ROLLBACK logged: {text[-400:]!r}")
        check("tick failed" in text and "full" in text.lower(), "the real cause is logged")
        os.unlink(filler)
        stop(p)
        stop(churn)
    finally:
        subprocess.run(["umount", "-l", mnt])


if __name__ == "__main__":
    if os.geteuid() != 0:
        skip("needs root: files of other users, setpriv")
    run([test_foreign_file_refused, test_own_loose_file_tightened, test_links_refused,
         test_new_files_modes_and_group, test_unreadable_is_permission_denied,
         test_named_missing_is_an_error, test_env_and_advertised_path,
         test_cpu_figure_matches_proc, test_counters_during_outage])
