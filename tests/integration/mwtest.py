# SPDX-License-Identifier: GPL-2.0-or-later
"""Helpers for memwatch integration tests: real daemon, real CLI, real
processes, real SQLite. Python standard library only.

Paths come from the environment meson sets (MEMWATCHD, MEMWATCH,
WORKLOADS, SRCDIR). Every process a test starts is registered and killed
at exit, so a failing test leaves nothing running.
"""
import atexit
import errno
import json
import os
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
import traceback

MEMWATCHD = os.environ.get("MEMWATCHD", "memwatchd")
MEMWATCH = os.environ.get("MEMWATCH", "memwatch")
WORKLOADS = os.environ.get("WORKLOADS", ".")
SRCDIR = os.environ.get("SRCDIR", ".")

SKIP = 77

# Each test's daemons advertise themselves in a runtime directory of their own, so neither a
# real memwatchd nor another test changes which database the CLI finds; and no outside
# $MEMWATCH_DB either.
os.environ.pop("MEMWATCH_DB", None)
if "MEMWATCH_RUNTIME_DIR" not in os.environ:
    os.environ["MEMWATCH_RUNTIME_DIR"] = tempfile.mkdtemp(prefix="mw-run-")
    atexit.register(shutil.rmtree, os.environ["MEMWATCH_RUNTIME_DIR"], True)
_children = []
_failures = []


def _cleanup():
    for p in _children:
        if p.poll() is None:
            try:
                p.kill()
                p.wait(timeout=5)
            except Exception:
                pass


atexit.register(_cleanup)


def check(cond, what):
    """Record a failed assertion and go on, so one run shows every failure."""
    if cond:
        return True
    frame = traceback.extract_stack(limit=2)[0]
    msg = f"{os.path.basename(frame.filename)}:{frame.lineno}: CHECK failed: {what}"
    print(msg, file=sys.stderr, flush=True)
    _failures.append(msg)
    return False


def skip(reason):
    print(f"SKIP: {reason}", flush=True)
    sys.exit(SKIP)


def kernel_at_least(major, minor):
    """uname's release is at least major.minor."""
    rel = os.uname().release.split("-")[0].split(".")
    return (int(rel[0]), int(rel[1])) >= (major, minor)


def min_faults(nbytes):
    """Faults that touching nbytes takes at least: 2 MiB ones where THP is always on."""
    try:
        with open("/sys/kernel/mm/transparent_hugepage/enabled") as f:
            thp = "[always]" in f.read()
    except OSError:
        thp = False
    return nbytes >> (21 if thp else 12)


def _own_cgroup(match):
    with open("/proc/self/cgroup") as f:
        for line in f:
            hid, ctrls, path = line.rstrip("\n").split(":", 2)
            if match(hid, ctrls):
                return path
    return "/"


def remove_cgroup(path):
    """Kill what is left inside (only a test's own workload can be) and remove the cgroup."""
    for _ in range(50):
        try:
            with open(os.path.join(path, "cgroup.procs")) as f:
                for pid in f.read().split():
                    os.kill(int(pid), signal.SIGKILL)
            os.rmdir(path)
            return True
        except (FileNotFoundError, ProcessLookupError):
            if not os.path.isdir(path):
                return True
        except OSError:
            time.sleep(0.1)
    print(f"could not remove {path}", flush=True)
    return False


def memory_cgroup(name, limit, no_swap=False):
    """A child of our own memory cgroup limited to `limit` bytes, on cgroup v1
    (memory.limit_in_bytes) or v2 (memory.max), removed at exit. Returns
    (directory, version) or raises OSError when neither can be made here."""
    if os.path.isdir("/sys/fs/cgroup/memory"):
        base = "/sys/fs/cgroup/memory" + _own_cgroup(lambda h, c: "memory" in c.split(","))
        version, files = 1, [("memory.limit_in_bytes", limit)]
        if no_swap:
            files.append(("memory.memsw.limit_in_bytes", limit))
    elif os.path.exists("/sys/fs/cgroup/cgroup.controllers"):
        base = "/sys/fs/cgroup" + _own_cgroup(lambda h, c: h == "0")
        version, files = 2, [("memory.max", limit)] + ([("memory.swap.max", 0)] if no_swap else [])
    else:
        raise OSError(errno.ENOENT, "no memory cgroup hierarchy")
    d = os.path.join(base, name)
    os.mkdir(d)
    atexit.register(remove_cgroup, d)
    try:
        for fname, value in files:
            if os.path.exists(os.path.join(d, fname)):
                with open(os.path.join(d, fname), "w") as f:
                    f.write(str(value))
        if version == 2 and not os.path.exists(os.path.join(d, "memory.max")):
            raise OSError(errno.ENOTSUP, f"memory controller not delegated to {base}")
    except OSError:
        os.rmdir(d)
        raise
    return d, version


def free_port():
    """A TCP port on 127.0.0.1 that nothing listens on (for a daemon's `listen`)."""
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def tmpdir(prefix="mw-it-"):
    d = tempfile.mkdtemp(prefix=prefix)
    atexit.register(shutil.rmtree, d, True)
    return d


def spawn(args, **kw):
    p = subprocess.Popen(args, **kw)
    _children.append(p)
    return p


def unique_copy(name):
    """A copy of workload NAME under a unique command name, so a test that
    looks processes up by name is not confused by other jobs on the host."""
    alias = "w" + os.urandom(4).hex()  # 9 chars: under the 15-char comm limit
    dst = os.path.join(tmpdir("mw-wl-"), alias)
    shutil.copy2(os.path.join(WORKLOADS, name), dst)
    return alias, dst


def go_build(name):
    """Build tests/workloads/NAME/main.go (standard library only, no cgo, offline) into a
    temporary directory: its path, or None without a Go toolchain (or, a failed check, when
    the build fails)."""
    go = shutil.which("go")
    if not go:
        return None
    tmp = tmpdir("mw-go-")
    env = dict(os.environ, GOCACHE=os.path.join(tmp, "cache"), GOPATH=os.path.join(tmp, "path"),
               GO111MODULE="off", GOFLAGS="", CGO_ENABLED="0", GOPROXY="off")
    out = os.path.join(tmp, name)
    src = os.path.join(SRCDIR, "tests", "workloads", name, "main.go")
    r = subprocess.run([go, "build", "-o", out, src], env=env, capture_output=True, text=True,
                       timeout=300)
    if not check(r.returncode == 0, f"go build {name}: {r.stderr}"):
        return None
    ver = subprocess.run([go, "version"], capture_output=True, text=True).stdout.strip()
    print(f"built {out} with {ver}", flush=True)
    return out


def start_in_cgroup(path, name, *args):
    """Start a workload already inside the cgroup, so its first sample carries it."""
    sh = f'echo $$ > "{path}/cgroup.procs" && exec "$0" "$@"'
    p = spawn(["sh", "-c", sh, os.path.join(WORKLOADS, name), *map(str, args)],
              stdout=subprocess.PIPE, text=True)
    line = p.stdout.readline()
    if not line.startswith("ready "):
        raise RuntimeError(f"{name} in cgroup: not ready ({line!r})")
    return p


def start_workload(name, *args, timeout=10, path=None):
    """Start tests/workloads/NAME (or the binary at path) and wait for its 'ready PID' line."""
    path = path or os.path.join(WORKLOADS, name)
    p = spawn([path, *map(str, args)], stdout=subprocess.PIPE, text=True)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        line = p.stdout.readline()
        if not line:
            raise RuntimeError(f"workload {name} exited before it was ready (rc={p.poll()})")
        if line.startswith("ready "):
            return p
    raise RuntimeError(f"workload {name} not ready after {timeout}s")


def stop(p, sig=signal.SIGTERM, timeout=5.0):
    """Signal a process and wait; returns (exit code, seconds it took)."""
    t0 = time.monotonic()
    if p.poll() is None:
        p.send_signal(sig)
    try:
        rc = p.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        p.kill()
        rc = p.wait()
    return rc, time.monotonic() - t0


def db_query(db, sql, args=()):
    """Read-only query on a database a daemon may be writing."""
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5)
    # Names from /proc are bytes, not always UTF-8 (another test's hostile
    # process may be running): keep them, undecodable bytes as surrogates.
    con.text_factory = lambda b: b.decode("utf-8", "surrogateescape")
    try:
        return con.execute(sql, args).fetchall()
    finally:
        con.close()


def db_scalar(db, sql, args=()):
    rows = db_query(db, sql, args)
    return rows[0][0] if rows else None


def start_daemon(db, interval=1.0, extra=(), wait_ticks=1, env=None, timeout=20):
    """memwatchd in the foreground on db; waits until wait_ticks ticks are stored."""
    log = open(db + ".log", "ab")
    p = spawn([MEMWATCHD, "--foreground", "--db", db, "--interval", str(interval), *extra],
              stderr=log, env=env)
    log.close()
    if wait_ticks:
        wait_for_ticks(db, wait_ticks, p, timeout=timeout)
    return p


def ticks(db):
    if not os.path.exists(db):
        return 0
    try:
        return db_scalar(db, "SELECT count(*) FROM ticks") or 0
    except sqlite3.Error:
        return 0


def wait_for_ticks(db, n, daemon=None, timeout=30):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if daemon is not None and daemon.poll() is not None:
            raise RuntimeError(f"memwatchd exited with {daemon.returncode}; log:\n" +
                               daemon_log(db))
        if ticks(db) >= n:
            return
        time.sleep(0.1)
    raise RuntimeError(f"{db}: fewer than {n} ticks after {timeout}s")


def daemon_log(db):
    try:
        with open(db + ".log", errors="replace") as f:
            return f.read()
    except OSError:
        return ""


def cli(*args, check_rc=None, input=None, timeout=120):
    """Run memwatch; returns (rc, stdout, stderr)."""
    r = subprocess.run([MEMWATCH, *map(str, args)], capture_output=True, text=True,
                       errors="replace", input=input, timeout=timeout)
    if check_rc is not None and r.returncode != check_rc:
        print(f"memwatch {' '.join(map(str, args))} -> {r.returncode}\n{r.stdout}\n{r.stderr}",
              file=sys.stderr)
    return r.returncode, r.stdout, r.stderr


def cli_json(*args):
    rc, out, err = cli(*args, "--json")
    if rc != 0:
        raise RuntimeError(f"memwatch {' '.join(map(str, args))} --json -> {rc}: {err}")
    return json.loads(out)


def run(tests):
    """Run test functions in order; exit 1 if any check failed or a test raised."""
    for t in tests:
        print(f"--- {t.__name__}", flush=True)
        try:
            t()
        except SystemExit:
            raise
        except Exception:
            traceback.print_exc()
            _failures.append(f"{t.__name__} raised")
    _cleanup()
    if _failures:
        print(f"{len(_failures)} failure(s)", flush=True)
        sys.exit(1)
    print("all checks passed", flush=True)
    sys.exit(0)
