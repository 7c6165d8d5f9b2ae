#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Issue 15 item 9, the corpus's controls: real servers that do not leak, recorded by
memwatchd at its default intervals (tick 5 s, smaps every 60 s) for RECORD_S (90 s):

- Debian's nginx (nginx-light): a throwaway configuration under a temporary prefix, a master
  and 2 workers on a free 127.0.0.1 port, answering a few requests (urllib) at the start and
  one per tick after;
- memcached on a unix socket (-s, -m 64), a few sets at the start and one get per tick;
- memwatchd itself (the daemon's own pid), which is recording them.

Asserted: at every tick of the recording none of them gets any hypothesis reported (score at
or above the report's threshold: what `memwatch report` prints), leak rule or not; a noted
one (below the threshold) is printed only. One `verdict:` line per process for the issue's
table. Skips (77) only when nginx or memcached is not installed (scripts/install-deps.sh
installs nginx-light and memcached).
"""
import atexit
import os
import pwd
import signal
import socket
import subprocess
import time
import urllib.request

from corpus import (TICK_S, TickPoller, describe, reported, start_default_daemon, verdict,
                    vm_rss, where_resident)
from mwtest import check, free_port, run, skip, spawn, stop, tmpdir

NGINX = "/usr/sbin/nginx"
MEMCACHED = "/usr/bin/memcached"
RECORD_S = 90
WORKERS = 2

NGINX_CONF = """
daemon off;
master_process on;
worker_processes {workers};
pid {prefix}/nginx.pid;
error_log {prefix}/error.log;
events {{ worker_connections 64; }}
http {{
    access_log off;
    client_body_temp_path {prefix}/body;
    proxy_temp_path {prefix}/proxy;
    fastcgi_temp_path {prefix}/fastcgi;
    uwsgi_temp_path {prefix}/uwsgi;
    scgi_temp_path {prefix}/scgi;
    server {{
        listen 127.0.0.1:{port};
        location / {{ return 200 "corpus\\n"; }}
    }}
}}
"""


def children(ppid):
    """Pids whose parent is ppid (nginx's workers), from /proc/PID/stat."""
    out = []
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open(f"/proc/{d}/stat") as f:
                stat = f.read()
        except OSError:
            continue
        if int(stat.rsplit(")", 1)[1].split()[1]) == ppid:
            out.append(int(d))
    return sorted(out)


def start_nginx():
    prefix = tmpdir("mw-nginx-")
    os.chmod(prefix, 0o755)
    port = free_port()
    conf = os.path.join(prefix, "nginx.conf")
    with open(conf, "w") as f:
        f.write(NGINX_CONF.format(workers=WORKERS, prefix=prefix, port=port))
    master = spawn([NGINX, "-p", prefix, "-c", conf, "-e", os.path.join(prefix, "error.log")],
                   stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    workers = []

    def quit_nginx():
        # SIGQUIT: the master stops its workers and waits for them; only if it had to be
        # killed may they be left, then still nginx (a pid not reused since).
        if master.poll() is not None:
            return
        stop(master, signal.SIGQUIT, timeout=10)
        for w in workers:
            try:
                with open(f"/proc/{w}/comm") as f:
                    if f.read().strip() == "nginx":
                        os.kill(w, signal.SIGKILL)
            except (OSError, ProcessLookupError):
                pass

    atexit.register(quit_nginx)
    url = f"http://127.0.0.1:{port}/"
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if master.poll() is not None:
            raise RuntimeError(f"nginx exited {master.returncode}: {master.stderr.read()}")
        workers[:] = children(master.pid)
        try:
            if len(workers) == WORKERS and get(url) == "corpus\n":
                return master, list(workers), url, quit_nginx
        except OSError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"nginx not serving {url} with {WORKERS} workers ({workers})")


def footprint(pid):
    """(VmRSS, resident [heap], resident unnamed anon, open descriptors), read now."""
    return (vm_rss(pid), *where_resident(pid), len(os.listdir(f"/proc/{pid}/fd")))


def get(url):
    with urllib.request.urlopen(url, timeout=5) as r:
        return r.read().decode()


class Memcached:
    def __init__(self):
        d = tmpdir("mw-memcached-")
        os.chmod(d, 0o755)
        sockdir = os.path.join(d, "s")
        os.mkdir(sockdir)
        nobody = pwd.getpwnam("nobody")
        os.chown(sockdir, nobody.pw_uid, nobody.pw_gid)  # it drops to nobody before binding
        self.path = os.path.join(sockdir, "memcached.sock")
        self.p = spawn([MEMCACHED, "-s", self.path, "-m", "64", "-u", "nobody"],
                       stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if self.p.poll() is not None:
                raise RuntimeError(f"memcached exited {self.p.returncode}: {self.p.stderr.read()}")
            try:
                self.s = socket.socket(socket.AF_UNIX)
                self.s.settimeout(10)
                self.s.connect(self.path)
                self.f = self.s.makefile("rb")
                return
            except OSError:
                self.s.close()
                time.sleep(0.1)
        raise RuntimeError(f"memcached not listening on {self.path}")

    def set(self, key, value):
        self.s.sendall(b"set %s 0 0 %d\r\n%s\r\n" % (key.encode(), len(value), value))
        return self.f.readline().strip().decode()

    def get(self, key):
        self.s.sendall(b"get %s\r\n" % key.encode())
        line, value = self.f.readline(), None
        if line.startswith(b"VALUE "):
            value = self.f.read(int(line.split()[3]) + 2)[:-2]
            line = self.f.readline()
        check(line.strip() == b"END", f"memcached get {key}: {line!r}")
        return value

    def close(self):
        self.s.close()


def test_idle_servers():
    for path in (NGINX, MEMCACHED):
        if not os.access(path, os.X_OK):
            skip(f"{path} is not installed: scripts/install-deps.sh installs nginx-light and"
                 " memcached")
    master, workers, url, quit_nginx = start_nginx()
    mc = Memcached()
    for i in range(5):
        check(get(url) == "corpus\n", "nginx answers")
        check(mc.set(f"k{i}", b"v" * (100 << i)) == "STORED", "memcached stores")
    db = os.path.join(tmpdir(), "mw.db")
    daemon = start_default_daemon(db)
    procs = {"nginx-master": master.pid, "memcached": mc.p.pid, "memwatchd": daemon.pid}
    for i, w in enumerate(workers):
        procs[f"nginx-worker{i + 1}"] = w
    print("processes: " + ", ".join(f"{k} {v}" for k, v in procs.items()), flush=True)

    poll = TickPoller(db, daemon)
    before = {name: footprint(pid) for name, pid in procs.items()}
    seen = {name: None for name in procs}  # first reported rule and when
    at, n = 0.0, 0
    while at < RECORD_S - TICK_S / 2:
        at, reps = poll.next(list(procs.values()))
        n += 1
        for name, pid in procs.items():
            rep = reps[pid]
            print(f"{at:5.1f}s {name}: {describe(rep, 3)}", flush=True)
            top = reported(rep)
            if check(not top, f"{name} at {at:.0f}s: nothing reported, got {describe(rep)}") \
                    or seen[name]:
                continue
            seen[name] = (top[0]["id"], at)
        check(get(url) == "corpus\n", "nginx answers")
        check(mc.get("k2") == b"v" * 400, "memcached returns what it stored")
    check(n >= RECORD_S // TICK_S - 2, f"reports at {n} ticks over {RECORD_S} s")
    for name, pid in procs.items():
        print(f"{name}: " + ", ".join(
            f"{what} {a >> 10 if unit else a} -> {b >> 10 if unit else b}{unit}"
            for what, unit, a, b in zip(("VmRSS", "[heap]", "unnamed anon", "fds"),
                                        (" KiB", " KiB", " KiB", ""), before[name],
                                        footprint(pid))) + " (/proc, read by the test)",
              flush=True)
    for name in procs:
        rule, when = seen[name] or (None, None)
        verdict(f"idle-{name}", None, rule, at if rule is None else when)
    check(master.poll() is None and mc.p.poll() is None, "nginx and memcached still run")
    mc.close()
    stop(mc.p)
    quit_nginx()
    stop(daemon, timeout=20)


if __name__ == "__main__":
    run([test_idle_servers])
