#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""The bash completion, sourced in a real bash and called as bash calls it
(COMP_WORDS, COMP_CWORD, COMP_LINE, COMP_POINT), alone and under
bash-completion's _init_completion: the subcommands and nothing else at
the first word, live pids for callsites and trace, pids and names for
report, top's sort keys (each one top accepts) after --sort, and
memwatchd's options, --slow-interval among them."""
import os
import shlex
import subprocess

from mwtest import (MEMWATCH, MEMWATCHD, SRCDIR, check, run, start_workload, stop,
                    unique_copy)

COMPLETION = os.path.join(SRCDIR, "completions", "memwatch")
BASH_COMPLETION = "/usr/share/bash-completion/bash_completion"
PATH = f"{os.path.dirname(MEMWATCH)}:{os.path.dirname(MEMWATCHD)}:{os.environ['PATH']}"
COMMANDS = {"report", "ipc", "oom", "top", "callsites", "trace", "status", "--help", "--version"}


def complete(line, full):
    """COMPREPLY for the command line `line` (the cursor at its end)."""
    words = shlex.split(line) + ([""] if line.endswith(" ") else [])
    fn = "_memwatchd" if words[0] == "memwatchd" else "_memwatch"
    script = "\n".join([
        f"source {shlex.quote(BASH_COMPLETION)}" if full else "",
        f"source {shlex.quote(COMPLETION)}",
        "COMP_WORDS=(" + " ".join(shlex.quote(w) for w in words) + ")",
        f"COMP_CWORD={len(words) - 1}",
        f"COMP_LINE={shlex.quote(line)}",
        f"COMP_POINT={len(line)}",
        f"{fn} {shlex.quote(words[0])} {shlex.quote(words[-1])} {shlex.quote(words[-2])}",
        'printf "%s\\n" "${COMPREPLY[@]}"',
    ])
    r = subprocess.run(["bash", "--norc", "--noprofile", "-c", script], capture_output=True,
                       text=True, timeout=30, env=dict(os.environ, PATH=PATH))
    check(r.returncode == 0 and not r.stderr, f"{line!r}: rc {r.returncode} {r.stderr!r}")
    return [w for w in r.stdout.split("\n") if w]


def cases(full):
    mode = "under bash-completion" if full else "alone"
    got = complete("memwatch ", full)
    check(set(got) == COMMANDS, f"{mode}: first word is a subcommand: {sorted(got)}")
    check(complete("memwatch c", full) == ["callsites"], f"{mode}: 'c' -> callsites")

    alias, path = unique_copy("flat")
    p = start_workload("flat", "--for", 60, path=path)
    try:
        for cmd in ("callsites", "trace"):
            got = complete(f"memwatch {cmd} ", full)
            check(str(p.pid) in got, f"{mode}: {cmd} offers the live pid {p.pid}")
            check(got and all(w.isdigit() for w in got), f"{mode}: {cmd} offers pids only")
            got = complete(f"memwatch {cmd} {p.pid}", full)
            check(str(p.pid) in got and all(w.startswith(str(p.pid)) for w in got),
                  f"{mode}: {cmd} {p.pid} completes that pid: {got}")
        got = complete("memwatch report ", full)
        check(str(p.pid) in got and alias in got, f"{mode}: report offers pid and name")
        check(complete(f"memwatch report {alias[:-2]}", full) == [alias],
              f"{mode}: report completes a name")
    finally:
        stop(p)

    keys = complete("memwatch top --sort ", full)
    check({"growth", "rss", "pid", "command"} <= set(keys), f"{mode}: --sort keys: {keys}")
    check(not any(k.startswith("(") or k.startswith("-") or k == "KEY" for k in keys),
          f"{mode}: --sort offers keys only: {keys}")
    check(complete("memwatch top --sort gr", full) == ["growth"], f"{mode}: --sort gr -> growth")
    if not full:  # the same keys either way; checked once against top itself
        for k in keys:
            r = subprocess.run([MEMWATCH, "top", "--batch", "--embedded", "--sort", k],
                               capture_output=True, text=True, timeout=60)
            check(r.returncode == 0, f"top takes --sort {k}: {r.returncode} {r.stderr!r}")
        r = subprocess.run([MEMWATCH, "top", "--batch", "--embedded", "--sort", "bogus"],
                           capture_output=True, text=True, timeout=60)
        check(r.returncode == 2, "top refuses a key the completion does not offer")
    check(complete("memwatch report --ex", full) == ["--exact"], f"{mode}: report --ex")
    check(complete("memwatch top --window ", full) == [], f"{mode}: no words for --window")

    check(complete("memwatchd --sl", full) == ["--slow-interval"], f"{mode}: memwatchd --sl")
    got = complete("memwatchd --", full)
    check({"--slow-interval", "--check-config", "--interval", "--config"} <= set(got),
          f"{mode}: memwatchd options: {got}")
    check(complete("memwatchd --slow-interval ", full) == [],
          f"{mode}: no words after --slow-interval")


def test_alone():
    cases(False)


def test_with_bash_completion():
    cases(True)


if __name__ == "__main__":
    if os.path.exists(BASH_COMPLETION):
        run([test_alone, test_with_bash_completion])
    # Only the half that needs the package is left out.
    print(f"SKIP test_with_bash_completion: no {BASH_COMPLETION} (package bash-completion)")
    run([test_alone])
