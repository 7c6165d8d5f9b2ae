#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""memwatchd lifecycle: the sd_notify protocol over a real datagram socket
(READY after the first stored tick, WATCHDOG pings, STATUS lines, path and
abstract sockets), and SIGHUP with a good and a bad configuration."""
import os
import signal
import socket
import time

from mwtest import (MEMWATCHD, check, daemon_log, db_scalar, run, spawn, stop, ticks,
                    tmpdir, wait_for_ticks)


class NotifyListener:
    def __init__(self, address):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(address)
        self.sock.settimeout(0.2)
        self.messages = []

    def drain(self, until=None, timeout=20):
        """Collect datagrams until one satisfies until(msg) or timeout; returns that one."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                msg = self.sock.recv(4096).decode()
            except socket.timeout:
                continue
            self.messages.append(msg)
            if until and until(msg):
                return msg
        return None

    def close(self):
        self.sock.close()


def start(db, conf, notify_socket, extra=(), watchdog_usec=None):
    env = dict(os.environ, NOTIFY_SOCKET=notify_socket)
    if watchdog_usec:
        env["WATCHDOG_USEC"] = str(watchdog_usec)
    log = open(db + ".log", "ab")
    p = spawn([MEMWATCHD, "--foreground", "--config", conf, "--db", db, *extra], stderr=log,
              env=env)
    log.close()
    return p


def test_notify_path_socket():
    d = tmpdir()
    db, conf, sockpath = (os.path.join(d, n) for n in ("mw.db", "mw.conf", "notify.sock"))
    with open(conf, "w") as f:
        f.write("interval = 0.3s\n")
    lst = NotifyListener(sockpath)
    # Watchdog of 400 ms: pings must come at least every 200 ms, i.e. between ticks too.
    p = start(db, conf, sockpath, watchdog_usec=400000)
    ready = lst.drain(lambda m: "READY=1" in m.split("\n"))
    check(ready is not None, "READY=1 received")
    check(ticks(db) >= 1, f"READY=1 only after the first tick is stored ({ticks(db)} ticks)")
    lst.drain(timeout=2)
    wd = [m for m in lst.messages if m == "WATCHDOG=1"]
    check(len(wd) >= 5, f"WATCHDOG=1 pings within 2 s at WatchdogSec=0.4 ({len(wd)})")
    status = [m for m in lst.messages if m.startswith("STATUS=Recording")]
    check(status and "processes every 0.3 s" in status[-1],
          f"STATUS line describes the recording: {status[-1:]}")
    rc, _ = stop(p)
    check(rc == 0, f"clean exit on SIGTERM ({rc})")
    lst.drain(timeout=0.5)
    check("STOPPING=1" in lst.messages, "STOPPING=1 on SIGTERM")
    lst.close()


def test_notify_abstract_socket():
    d = tmpdir()
    db, conf = os.path.join(d, "mw.db"), os.path.join(d, "mw.conf")
    with open(conf, "w") as f:
        f.write("interval = 0.3s\n")
    name = f"memwatch-test-{os.getpid()}"
    lst = NotifyListener("\0" + name)
    p = start(db, conf, "@" + name)
    check(lst.drain(lambda m: "READY=1" in m) is not None, "READY=1 over an abstract socket")
    stop(p)
    lst.close()


def test_sighup_good_and_bad():
    d = tmpdir()
    db, conf, sockpath = (os.path.join(d, n) for n in ("mw.db", "mw.conf", "n.sock"))
    with open(conf, "w") as f:
        f.write("interval = 0.5s\nexclude_comm = sleep\n")
    lst = NotifyListener(sockpath)
    sleeper = spawn(["sleep", "300"])
    p = start(db, conf, sockpath)
    check(lst.drain(lambda m: "READY=1" in m) is not None, "ready")
    wait_for_ticks(db, 3, p)
    recorded = db_scalar(db, "SELECT count(*) FROM procs WHERE pid = ?", (sleeper.pid,))
    check(recorded == 0, "exclude_comm = sleep keeps the sleeper out of the store")

    # A bad file: rejected with file:line and the reason, the old config stays.
    with open(conf, "w") as f:
        f.write("interval = 0.5s\n# comment\ninterval = soon\n")
    p.send_signal(signal.SIGHUP)
    lst.drain(lambda m: "Reload failed" in m, timeout=10)
    log = daemon_log(db)
    check(f"{conf}:3: interval: 'soon'" in log, "bad config named with file:line and reason")
    check("keeping the previous configuration" in log, "old config kept")
    n = ticks(db)
    wait_for_ticks(db, n + 2, p)
    check(db_scalar(db, "SELECT count(*) FROM procs WHERE pid = ?", (sleeper.pid,)) == 0,
          "after the bad reload the exclusion still applies")

    # A good file: applied (the exclusion is gone, the interval changes).
    with open(conf, "w") as f:
        f.write("interval = 0.2s\n")
    p.send_signal(signal.SIGHUP)
    lst.drain(lambda m: m.startswith("STATUS=Recording") and "every 0.2 s" in m, timeout=10)
    check("reloaded" in daemon_log(db), "reload logged")
    n = ticks(db)
    wait_for_ticks(db, n + 3, p)
    check(db_scalar(db, "SELECT count(*) FROM procs WHERE pid = ?", (sleeper.pid,)) == 1,
          "after the good reload the sleeper is recorded")
    check(p.poll() is None, "daemon alive after both reloads")
    stop(p)
    stop(sleeper)
    lst.close()


def test_check_config():
    import subprocess
    d = tmpdir()
    conf = os.path.join(d, "bad.conf")
    with open(conf, "w") as f:
        f.write("listen = 127.0.0.1:9464\nnice = 99\n")
    r = subprocess.run([MEMWATCHD, "--config", conf, "--check-config"], capture_output=True,
                       text=True)
    check(r.returncode == 1 and f"{conf}:2: nice" in r.stderr,
          f"--check-config names the bad line: {r.returncode} {r.stderr!r}")
    # Every error, one a line with its file:line, and a near-miss key gets its suggestion.
    with open(conf, "w") as f:
        f.write("intreval = 5s\nlisten = 127.0.0.1:9464\nnice = 99\nslow_interval = x\n")
    r = subprocess.run([MEMWATCHD, "--config", conf, "--check-config"], capture_output=True,
                       text=True)
    want = [f"memwatchd: {conf}:1: unknown key 'intreval'; did you mean interval?",
            f"memwatchd: {conf}:3: nice: '99': expected -20 to 19",
            f"memwatchd: {conf}:4: slow_interval: 'x'"]
    got = r.stderr.splitlines()
    check(r.returncode == 1 and len(got) == len(want) and
          all(g.startswith(w) for g, w in zip(got, want)),
          f"--check-config lists every error: {r.returncode} {r.stderr!r}")
    r = subprocess.run([MEMWATCHD, "--config", os.path.join(d, "missing.conf"),
                        "--foreground"], capture_output=True, text=True)
    check(r.returncode == 2 and "missing.conf" in r.stderr,
          "an explicit --config that does not exist is a usage error")


def proc_status(pid):
    with open(f"/proc/{pid}/status") as f:
        return dict(line.rstrip("\n").split(":\t", 1) for line in f if ":\t" in line)


def test_nice_mlockall_capabilities():
    d = tmpdir()
    db, conf, sockpath = (os.path.join(d, n) for n in ("mw.db", "mw.conf", "n.sock"))
    with open(conf, "w") as f:
        f.write("interval = 0.3s\nnice = 7\nmlockall = yes\n")
    lst = NotifyListener(sockpath)
    p = start(db, conf, sockpath)
    check(lst.drain(lambda m: "READY=1" in m) is not None, "ready")
    with open(f"/proc/{p.pid}/stat") as f:
        nice = int(f.read().rsplit(")", 1)[1].split()[16])
    check(nice == 7, f"runs at the configured nice level ({nice})")
    st = proc_status(p.pid)
    locked = int(st.get("VmLck", "0 kB").split()[0])
    with open(f"/proc/{p.pid}/maps") as f:
        asan = "libasan" in f.read()
    if asan:
        # ASan intercepts mlockall and ignores it ("AddressSanitizer ignores mlock").
        print("ASan build: mlockall is a no-op here, VmLck not checked")
    else:
        check(locked > 0, f"mlockall locked its memory (VmLck {locked} kB)")
    if os.geteuid() == 0:
        eff = int(st["CapEff"], 16)
        wanted = (1 << 19) | (1 << 2)  # CAP_SYS_PTRACE, CAP_DAC_READ_SEARCH
        log = daemon_log(db)
        if "keeping CAP_IPC_LOCK" in log:
            wanted |= 1 << 14  # RLIMIT_MEMLOCK could not be raised here
        # Sources that stayed on keep what they still use (their keep_caps).
        if "bpf: off" not in log:
            wanted |= (1 << 21) | (1 << 38) | (1 << 39)  # SYS_ADMIN (stats), PERFMON, BPF
        if "callsite: off" not in log:
            wanted |= 1 << 38  # PERFMON: per-CPU perf events are reopened to mute a storm
        check(eff == wanted, f"capabilities dropped to ptrace + dac_read_search and what the"
                             f" sources keep ({eff:#x}, wanted {wanted:#x})")
        bnd = int(st["CapBnd"], 16)
        check(bnd == wanted, f"bounding set reduced too ({bnd:#x})")
        check(st.get("NoNewPrivs", "0").strip() == "1", "no_new_privs set")
    n = ticks(db)
    wait_for_ticks(db, n + 3, p)
    check(p.poll() is None, "still recording after dropping capabilities")
    stop(p)
    lst.close()


if __name__ == "__main__":
    run([test_notify_path_socket, test_notify_abstract_socket, test_sighup_good_and_bad,
         test_check_config, test_nice_mlockall_capabilities])
