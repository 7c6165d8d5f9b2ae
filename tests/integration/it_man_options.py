#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""The man pages, --help and the programs' option tables agree.

For every memwatch command and for memwatchd: the long options in the C
option table (struct option in the source), in `--help`, and in the man
page's section for that command are the same set. A table option a command
does not list (the shared table of report --system, ipc and oom) must be
refused by that command with a usage error. The man pages render without a
groff warning at 80 columns, and the bash completion takes its option lists
from --help."""
import os
import re
import subprocess

from mwtest import MEMWATCH, MEMWATCHD, SRCDIR, check, run

# command argv, source file of its option table, man page, man section heading
COMMANDS = [
    (["report", "--help"], "cli/cmd_report.c", "memwatch.1", "memwatch report PID|NAME"),
    (["report", "--system", "--help"], "cli/syscli.c", "memwatch.1", "memwatch report \\-\\-system"),
    (["ipc", "--help"], "cli/syscli.c", "memwatch.1", "memwatch ipc"),
    (["oom", "--help"], "cli/syscli.c", "memwatch.1", "memwatch oom"),
    (["callsites", "--help"], "cli/cmd_callsites.c", "memwatch.1", "memwatch callsites PID"),
    (["trace", "--help"], "cli/cmd_trace.c", "memwatch.1", "memwatch trace PID"),
    (["status", "--help"], "cli/cmd_status.c", "memwatch.1", "memwatch status"),
    (["top", "--help"], "cli/cmd_top.c", "memwatch.1", "memwatch top"),
]
# Options every command takes and the man pages describe once, not per command.
COMMON = {"help"}
LONG = r"--([a-z][a-z-]*[a-z])"


def table_options(path):
    """Long option names of the struct option arrays in a C file."""
    text = open(os.path.join(SRCDIR, path), encoding="utf-8").read()
    names = set()
    for block in re.findall(r"struct option [a-z_]+\[\] = \{(.*?)\n\s*\};", text, re.S):
        names.update(re.findall(r'\{"([a-z][a-z-]*)",', block))
    check(names, f"{path}: an option table was found")
    return names


def help_options(argv, prog=MEMWATCH):
    r = subprocess.run([prog, *argv], capture_output=True, text=True, timeout=30)
    check(r.returncode == 0 and r.stdout, f"{' '.join(argv)}: exit {r.returncode} {r.stderr!r}")
    return set(re.findall(LONG, r.stdout)), r.stdout


def man_sections(page):
    """{heading: text} of a man page's .SH/.SS sections, roff escapes of '-' undone."""
    out, head = {}, None
    for line in open(os.path.join(SRCDIR, "man", page), encoding="utf-8"):
        m = re.match(r'^\.S[HS]\s+"?(.*?)"?\s*$', line)
        if m:
            head = m.group(1).split(" [")[0]
            out[head] = ""
        elif head is not None:
            out[head] += line
    return out


def man_options(text):
    return set(re.findall(LONG, text.replace("\\-", "-")))


def refused(argv_cmd, opt):
    """The command refuses --opt (and an argument, for options that take one) as usage."""
    r = subprocess.run([MEMWATCH, *argv_cmd, f"--{opt}", "1"], capture_output=True, text=True,
                       timeout=30)
    return r.returncode == 2, r


def test_memwatch_commands():
    for argv, src, page, head in COMMANDS:
        name = " ".join(argv[:-1])
        table = table_options(src) - COMMON
        helped, _ = help_options(argv)
        helped -= COMMON
        if argv[0] == "report" and "--system" not in argv:
            table.add("system")  # report hands --system to the shared table
        sections = man_sections(page)
        if not check(head in sections, f"{page} has a section '{head}' for {name}"):
            continue
        in_man = (man_options(sections[head]) | man_options(head)) - COMMON
        check(helped <= table, f"{name}: --help lists options the table lacks: {helped - table}")
        check(helped == in_man,
              f"{name}: --help and {page} differ: only in --help {sorted(helped - in_man)}, "
              f"only in the man page {sorted(in_man - helped)}")
        for opt in sorted(table - helped):
            ok, r = refused(argv[:-1], opt)
            check(ok, f"{name}: --{opt} is in the table but not in --help, and is not refused "
                      f"(exit {r.returncode}: {r.stderr.strip()[:200]!r})")


def test_memwatch_command_list():
    r = subprocess.run([MEMWATCH, "--help"], capture_output=True, text=True, timeout=30)
    commands = re.findall(r"^  ([a-z]+)\s", r.stdout.split("Commands:")[-1], re.M)
    check(len(commands) >= 7, f"memwatch --help lists the commands: {commands}")
    sections = man_sections("memwatch.1")
    for c in commands:
        check(any(h.startswith(f"memwatch {c}") for h in sections),
              f"memwatch.1 has a section for '{c}'")
    for h in sections:
        m = re.match(r"memwatch ([a-z]+)", h)
        if m:
            check(m.group(1) in commands, f"memwatch.1 describes '{m.group(1)}', which exists")
    bad = subprocess.run([MEMWATCH, "export"], capture_output=True, text=True, timeout=30)
    if bad.returncode != 0:
        check("export" not in open(os.path.join(SRCDIR, "man", "memwatch.1")).read(),
              "memwatch.1 does not promise an export command that does not exist")


def test_memwatchd():
    table = table_options("daemon/memwatchd.c")
    helped, _ = help_options(["--help"], prog=MEMWATCHD)
    options = man_sections("memwatchd.8").get("OPTIONS", "")
    in_man = man_options(options)
    check(helped == table, f"memwatchd --help and its table differ: {sorted(helped ^ table)}")
    check(in_man == table, f"memwatchd.8 OPTIONS and the table differ: "
                           f"only in the table {sorted(table - in_man)}, "
                           f"only in the man page {sorted(in_man - table)}")
    synopsis = man_options(man_sections("memwatchd.8").get("SYNOPSIS", ""))
    check(synopsis <= table, f"memwatchd.8 SYNOPSIS names no unknown option: {synopsis - table}")


def test_capabilities_documented():
    unit = open(os.path.join(SRCDIR, "systemd", "memwatchd.service.in")).read()
    caps = re.search(r"^CapabilityBoundingSet=(.*)$", unit, re.M).group(1).split()
    page = open(os.path.join(SRCDIR, "man", "memwatchd.8")).read().replace("\\-", "-")
    for cap in caps:
        check(cap in page, f"memwatchd.8 explains {cap}, which the unit keeps")


def test_pages_render_clean():
    env = dict(os.environ, MANWIDTH="80", LC_ALL="C.UTF-8")
    for page in ("memwatch.1", "memwatchd.8", "memwatchd.conf.5"):
        r = subprocess.run(["man", "--warnings", "-l", os.path.join(SRCDIR, "man", page)],
                           capture_output=True, text=True, env=env, timeout=60)
        check(r.returncode == 0 and r.stdout.strip(), f"{page} renders: {r.returncode}")
        check(r.stderr.strip() == "", f"{page} renders without warnings:\n{r.stderr}")


def test_completion_follows_help():
    comp = open(os.path.join(SRCDIR, "completions", "memwatch")).read()
    check(comp.count("--help 2>&1 | grep -o -- '--[a-z][a-z-]*'") >= 2,
          "both completions take their option lists from --help")
    r = subprocess.run(["bash", "-n", os.path.join(SRCDIR, "completions", "memwatch")],
                       capture_output=True, text=True, timeout=30)
    check(r.returncode == 0, f"completion parses: {r.stderr}")


if __name__ == "__main__":
    run([test_memwatch_commands, test_memwatch_command_list, test_memwatchd,
         test_capabilities_documented, test_pages_render_clean, test_completion_follows_help])
