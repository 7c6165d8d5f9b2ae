#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""memwatch report NAME matches like pgrep: a substring of the command name
or of the command line, -x for the exact command name; several matches are
listed (pid, escaped command line) and the command exits 1."""
import os
import subprocess
import sys

from mwtest import check, cli, cli_json, run, spawn, stop, tmpdir

TOKEN = "mwn" + os.urandom(4).hex()  # unique on the host, so other jobs cannot match
SCRIPT = """import sys, time
print("ready", flush=True)
time.sleep(60)
"""


def start_script(*args):
    """python3 running a script whose path and arguments carry TOKEN; comm stays python3."""
    path = os.path.join(tmpdir(), f"names-{TOKEN}.py")
    with open(path, "w") as f:
        f.write(SCRIPT)
    p = spawn([sys.executable, path, *args], stdout=subprocess.PIPE, text=True)
    line = p.stdout.readline()
    if not line.startswith("ready"):
        raise RuntimeError(f"script not ready: {line!r}")
    return p


def test_cmdline_substring():
    a = start_script("--role", "alpha")
    b = start_script("--role", "beta\x1b[31m\x07")
    # A substring of a's command line only (its role), not of its comm (python3).
    rep = cli_json("report", f"{TOKEN}.py --role alpha", "--live", "--sample", "1s")
    check(rep["process"]["pid"] == a.pid,
          f"cmdline substring resolves to a ({a.pid}): {rep['process']['pid']}")
    # A substring of both: ambiguous, both listed with their command lines escaped.
    rc, out, err = cli("report", TOKEN, "--live", "--sample", "1s")
    check(rc == 1 and "matches 2 processes" in err, f"ambiguous: rc {rc}, {err!r}")
    lines = {int(l.split()[0]): l for l in err.splitlines()[1:] if l.strip()}
    check(set(lines) == {a.pid, b.pid}, f"lists exactly a and b ({a.pid}, {b.pid}): {lines}")
    check(f"names-{TOKEN}.py --role alpha" in lines.get(a.pid, ""),
          f"a listed with its command line: {lines.get(a.pid)!r}")
    check("\x1b" not in err and "\x07" not in err, f"no raw control bytes reach the terminal")
    check("beta\\e[31m\\x07" in lines.get(b.pid, ""),
          f"b's control bytes are escaped: {lines.get(b.pid)!r}")
    check(not out, f"no report on an ambiguous name: {out[:200]!r}")
    # -x: the exact command name; the token is only in the command line.
    rc, _, err = cli("report", "-x", TOKEN, "--live", "--sample", "1s")
    check(rc == 1 and f"no running process named '{TOKEN}'" in err,
          f"-x ignores the command line: rc {rc}, {err!r}")
    rc, _, err = cli("report", "--exact", f"{TOKEN}.py --role alpha", "--live")
    check(rc == 1 and "no running process named" in err, f"--exact likewise: rc {rc}, {err!r}")
    stop(a)
    stop(b)
    # Our own command line (and our parent's) holds the name: never a candidate.
    rc, _, err = cli("report", TOKEN, "--live", "--sample", "1s")
    check(rc == 1 and f"no running process named '{TOKEN}' nor with it in its command line"
          in err, f"gone, and memwatch itself does not match: rc {rc}, {err!r}")


def test_exact_comm():
    # A comm substring matches; -x needs the whole name.
    d = tmpdir()
    exe = os.path.join(d, f"x{TOKEN}")
    os.symlink("/bin/sleep", exe)
    p = spawn([exe, "60"])
    part = TOKEN[:-2]
    rep = cli_json("report", part, "--live", "--sample", "1s")
    check(rep["process"]["pid"] == p.pid, f"comm substring '{part}': {rep['process']['pid']}")
    rc, _, err = cli("report", "-x", part, "--live", "--sample", "1s")
    check(rc == 1 and "no running process named" in err, f"-x refuses a part: {rc} {err!r}")
    rep = cli_json("report", "-x", f"x{TOKEN}", "--live", "--sample", "1s")
    check(rep["process"]["pid"] == p.pid, f"-x whole name: {rep['process']['pid']}")
    stop(p)


if __name__ == "__main__":
    run([test_cmdline_substring, test_exact_comm])
