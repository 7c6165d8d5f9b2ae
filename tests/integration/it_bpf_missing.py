#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Kernel issue, acceptance 2: a program the kernel refuses (or the operator
turns off) costs only its own evidence, and `memwatch status` and `memwatch
report` name it with the reason and what is missing, in text and JSON."""
import os

from it_daemon_metrics import free_port, http, parse_exposition
from bpftest import bpf_state, require_bpf_on, require_root
from mwtest import (check, cli, cli_json, daemon_log, run, start_daemon, stop, tmpdir,
                    wait_for_ticks)

FAULT = "page_fault_user (tp_btf)"


def missing_entry(entries, program):
    return next((e for e in entries if e["program"] == program), None)


def record(env_extra, extra=()):
    d = tmpdir()
    db = os.path.join(d, "mw.db")
    env = dict(os.environ, **env_extra)
    daemon = start_daemon(db, interval=0.5, env=env, extra=extra)
    wait_for_ticks(db, 4, daemon)
    require_bpf_on(db, daemon_log(db))
    return db, daemon


def check_named(db, why_check):
    """status and report (text and JSON) list the fault program as missing."""
    st = cli_json("status", "--db", db)
    e = missing_entry(st["bpf_missing"], FAULT)
    print(f"status --json bpf_missing: {st['bpf_missing']}")
    check(e is not None, "status --json lists page_fault_user as missing")
    if e is None:
        return
    why_check(e["reason"])
    check("faults by region" in e["evidence"], f"...with the evidence lost: {e['evidence']!r}")
    check(FAULT not in st["bpf"], f"...and not among the programs on: {st['bpf']!r}")
    rc, out, _ = cli("status", "--db", db)
    line = next((ln for ln in out.splitlines() if "missing:" in ln and FAULT in ln), "")
    check(rc == 0 and line, f"status text has a 'missing:' line for it:\n{out}")
    check(e["reason"] in line, f"...quoting the reason: {line!r}")
    pid = str(os.getpid())
    rep = cli_json("report", pid, "--db", db)
    re = missing_entry(rep["bpf"]["missing"], FAULT)
    check(re is not None and re["reason"] == e["reason"],
          f"report --json bpf.missing names it with the same reason: {rep['bpf'].get('missing')}")
    rc, out, _ = cli("report", pid, "--db", db)
    check(rc == 0 and any("missing" in ln and FAULT in ln for ln in out.splitlines()),
          f"report text has a 'missing' line for it:\n{out}")
    # The other programs still load: one refusal costs only its own evidence.
    check("vm_unmapped_area" in st["bpf"] and "sched_process_exit" in st["bpf"],
          f"the other programs are on: {st['bpf']!r}")


def test_turned_off():
    require_root()
    port = free_port()
    db, daemon = record({"MEMWATCH_BPF_OFF": "page_fault_user"},
                        ("--listen", f"127.0.0.1:{port}"))
    check_named(db, lambda why: check(why == "turned off by MEMWATCH_BPF_OFF",
                                      f"the reason says who turned it off: {why!r}"))
    _, body = http(port, b"GET /metrics HTTP/1.0\r\n\r\n")
    fams = parse_exposition(body.decode())
    rows = fams.get("memwatch_bpf_program_missing", {}).get("samples", [])
    print(f"/metrics memwatch_bpf_program_missing: {rows}")
    check(any(l.get("program") == FAULT and l.get("reason") == "turned off by MEMWATCH_BPF_OFF"
              and v == 1 for l, v in rows), "/metrics names the missing program and why")
    check("left out" in daemon_log(db), f"the daemon log warns:\n{daemon_log(db)}")
    rc, _ = stop(daemon)
    check(rc == 0, f"memwatchd exits 0 (got {rc})")


def test_verifier_refusal():
    """The owner-pointer variant passes mm->owner to a helper; kernels whose
    BTF lacks the 'rcu' type tag (GCC-built ones, this project's machine)
    refuse it. Where it is refused, the verifier's own line is the reason."""
    require_root()
    db, daemon = record({"MEMWATCH_BPF_VARIANT": "owner-pointer"})
    state = bpf_state(db)
    st = cli_json("status", "--db", db)
    e = missing_entry(st["bpf_missing"], FAULT)
    if e is None:
        print(f"this kernel accepts the owner-pointer variant: {state!r}")
        check(FAULT in state, f"...so the fault program is on: {state!r}")
    else:
        print(f"this kernel refuses the owner-pointer variant: {e['reason']!r}")
        check_named(db, lambda why: check(why.startswith("verifier: ") and "R" in why,
                                          f"the reason is the verifier's line: {why!r}"))
    rc, _ = stop(daemon)
    check(rc == 0, f"memwatchd exits 0 (got {rc})")


if __name__ == "__main__":
    run([test_turned_off, test_verifier_refusal])
