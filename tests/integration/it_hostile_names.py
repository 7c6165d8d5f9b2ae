#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""A process named with an escape sequence, newline, tab and invalid UTF-8
is shown escaped everywhere: the TUI, top --batch, report text and JSON.
Nothing reaches a terminal raw. In JSON a name with invalid UTF-8 and one
that really holds the text \\xff stay distinguishable (lossless bytes)."""
import json
import os
import shutil
import subprocess
import sys

from mwtest import (MEMWATCH, check, run, spawn, start_daemon, start_workload, stop, tmpdir,
                    wait_for_ticks)
import mwtmux

COMM_ESCAPED = r"\e[2J\n\t\xffevil"
ARG_ESCAPED = r"\xff\xfename"


def no_raw(data, what):
    check(b"\x1b" not in data, f"{what}: no raw ESC")
    check(b"\xff" not in data and b"\xfe" not in data, f"{what}: no raw invalid UTF-8")
    check(b"\x07" not in data, f"{what}: no raw BEL")


def test_batch_and_report():
    h = start_workload("hostile_name", "--for", 60)
    r = subprocess.run([MEMWATCH, "top", "--batch", "--filter", "evil"], capture_output=True)
    check(r.returncode == 0, "batch ok")
    no_raw(r.stdout, "top --batch")
    out = r.stdout.decode()
    line = next((l for l in out.splitlines() if l.split()[:1] == [str(h.pid)]), "")
    check(COMM_ESCAPED in line and ARG_ESCAPED in line and r"\e]0;pwned\x07" in line,
          f"batch row escaped: {line!r}")
    r = subprocess.run([MEMWATCH, "report", str(h.pid), "--live", "--sample", "1s"],
                       capture_output=True)
    no_raw(r.stdout, "report text")
    check(COMM_ESCAPED in r.stdout.decode(), "report text shows the escaped name")
    r = subprocess.run([MEMWATCH, "report", str(h.pid), "--live", "--sample", "1s", "--json"],
                       capture_output=True)
    no_raw(r.stdout, "report JSON")
    doc = json.loads(r.stdout)
    check(doc["process"]["comm"] == "\x1b[2J\n\t\ufffdevil",
          f"JSON comm: control characters as \\u escapes, bad bytes as U+FFFD: "
          f"{doc['process']['comm']!r}")
    check(bytes.fromhex(doc["process"].get("comm_bytes", "")) == b"\x1b[2J\n\t\xffevil",
          f"JSON comm_bytes holds the raw comm: {doc['process'].get('comm_bytes')!r}")
    # From the database too: strings that went through SQLite come back escaped.
    d = tmpdir()
    db = os.path.join(d, "mw.db")
    daemon = start_daemon(db, interval=0.5, wait_ticks=2)
    wait_for_ticks(db, 3, daemon)
    r = subprocess.run([MEMWATCH, "top", "--db", db, "--batch", "--filter", "evil"],
                       capture_output=True)
    no_raw(r.stdout, "top --batch from the database")
    check(COMM_ESCAPED in r.stdout.decode(), "batch from db: escaped name")
    r = subprocess.run([MEMWATCH, "report", str(h.pid), "--db", db], capture_output=True)
    no_raw(r.stdout, "report text from the database")
    check(COMM_ESCAPED in r.stdout.decode(), "report from db: escaped name")
    stop(daemon)
    stop(h)


def json_valid(data, what):
    r = subprocess.run([sys.executable, "-m", "json.tool"], input=data, capture_output=True)
    check(r.returncode == 0, f"{what}: valid JSON per python3 -m json.tool: {r.stderr!r}")


def test_json_lossless():
    """Invalid bytes and the literal text \\xff: two different names in report --json."""
    bad = start_workload("hostile_name", "--for", 60)
    # A process whose comm and argv really contain the four characters \\xff.
    d = tmpdir()
    exe = os.path.join(d, "lit\\xffevil")
    shutil.copy2(shutil.which("sleep"), exe)
    lit = spawn(["lit\\xfename", "60"], executable=exe)
    docs = {}
    for name, pid in (("bad", bad.pid), ("literal", lit.pid)):
        r = subprocess.run([MEMWATCH, "report", str(pid), "--live", "--sample", "1s",
                            "--json"], capture_output=True)
        check(r.returncode == 0, f"report --json {name}: rc {r.returncode} {r.stderr!r}")
        no_raw(r.stdout, f"report JSON ({name})")
        json_valid(r.stdout, f"report --json ({name})")
        docs[name] = json.loads(r.stdout)["process"]
    b, l = docs["bad"], docs["literal"]
    check(l["comm"] == "lit\\xffevil" and "comm_bytes" not in l,
          f"literal \\xff comm is that text, no bytes field: {l!r}")
    check(l["cmdline"].startswith("lit\\xfename") and "cmdline_bytes" not in l,
          f"literal \\xfe cmdline is that text: {l['cmdline']!r}")
    check("\\x" not in b["comm"] and "\ufffd" in b["comm"], f"bad comm has U+FFFD: {b['comm']!r}")
    check(bytes.fromhex(b["cmdline_bytes"]).startswith(b"hostile\x1b[2J \t\xff\xfename"),
          f"bad cmdline's bytes are lossless: {b.get('cmdline_bytes')!r}")
    check(b["comm_bytes"] != l.get("comm_bytes") and b["comm"] != l["comm"],
          "the two names are distinguishable")
    stop(lit)
    stop(bad)


def test_tui():
    if not mwtmux.available():
        print("tmux not installed: TUI part not run")
        return
    h = start_workload("hostile_name", "--for", 60)
    pane = mwtmux.Pane("mwhostile", 160, 30)
    try:
        pane.type(f"'{MEMWATCH}' top --delay 1 --filter evil")
        s = pane.wait_for(lambda t: "evil" in t and "PID" in t, what="hostile row")
        check(COMM_ESCAPED in s, f"TUI shows the escaped name:\n{s}")
        check(s.splitlines()[0].startswith("memwatch top"),
              "the screen was not cleared by the name (header intact)")
        pane.keys("Enter")
        s = pane.wait_for(lambda t: "Process detail" in t, what="detail")
        check(COMM_ESCAPED in s, "detail view shows the escaped name")
        pane.keys("q")
        pane.wait_for(lambda t: pane.alternate_on() == "0", what="quit")
    finally:
        pane.close()
    # A non-UTF-8 locale: everything >= 0x80 escaped, ASCII bars.
    pane = mwtmux.Pane("mwhostile2", 160, 30, env={"LANG": "C", "LC_ALL": "C"})
    try:
        pane.type(f"'{MEMWATCH}' top --delay 1 --filter evil")
        s = pane.wait_for(lambda t: "evil" in t and "PID" in t, what="hostile row (C locale)")
        check(COMM_ESCAPED in s, "C locale: escaped name")
        check("\u2581" not in s, "C locale: ASCII sparklines")
        pane.keys("q")
        pane.wait_for(lambda t: pane.alternate_on() == "0", what="quit")
    finally:
        pane.close()
    stop(h)


if __name__ == "__main__":
    run([test_batch_and_report, test_json_lossless, test_tui])
