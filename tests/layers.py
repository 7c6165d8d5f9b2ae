#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""The layer check: data flows collect -> store -> analyse -> view.

  tests/layers.py SRCDIR [BUILDDIR]

Each source file's layer is its folder (lib/<layer>/, include/memwatch/<layer>/,
daemon/, cli/). Fails, naming the file and line, on
  - an include of a later layer's header (types of collect are allowed in
    store, analyse and view: a struct is not a read of the live machine);
  - SQL outside the store: a sqlite3 call or header, or an SQL statement in
    a string literal, anywhere but lib/store/. Unit tests may hold SQL text
    (fixtures, rows checked independently of the readers under test), since
    without sqlite3 it can only run through lib/store/inspect.c;
  - with BUILDDIR, a call (an undefined symbol in the object, from nm) into a
    later layer, or from store, analyse or view into collect: the analysis
    never reads the live machine, so a copied database replays anywhere.
A file under lib/ or include/memwatch/ outside a layer folder fails too.
"""
import json
import os
import re
import subprocess
import sys

LIB = ["base", "collect", "store", "analyse", "view"]
RANK = {name: i for i, name in enumerate(LIB)}
# What each app may use. The daemon records (collect -> store); the CLI
# orchestrates every layer (live sampling is collect, then analyse, then view).
APPS = {"daemon": {"base", "collect", "store", "daemon"},
        "cli": set(LIB) | {"cli"}}
# SQL is written upper-case here; "ATTACH" alone is a column heading, not a statement.
SQL_LITERAL = re.compile(
    r'"\s*(SELECT|INSERT|UPDATE|DELETE|REPLACE|CREATE|DROP|ALTER|PRAGMA|WITH|BEGIN|COMMIT|'
    r'ROLLBACK|SAVEPOINT|VACUUM|ATTACH DATABASE)\b')
SQLITE = re.compile(r"\bsqlite3_[a-z0-9_]+\s*\(|#\s*include\s*<sqlite3\.h>")
INCLUDE = re.compile(r'#\s*include\s*"memwatch/([a-z]+)/[a-z0-9_]+\.h"')
PRIVATE_SQL = re.compile(r'#\s*include\s*"sql\.h"')


def layer_of(rel):
    """The layer of a repo-relative path, None when it has none, '' when it must have one."""
    parts = rel.split("/")
    if parts[0] == "lib" and len(parts) > 1:
        return parts[1] if parts[1] in RANK and len(parts) > 2 else ""
    if parts[:2] == ["include", "memwatch"]:
        return parts[2] if len(parts) > 3 and parts[2] in RANK else ""
    if parts[0] in APPS:
        return parts[0]
    return None


def may_use(src, dst, call):
    if src in APPS:
        return dst in APPS[src]
    if dst not in RANK:
        return False
    if RANK[dst] > RANK[src]:
        return False
    # Types of collect are fine everywhere; its functions read the live machine.
    return not (call and dst == "collect" and src != "collect")


def sources(srcdir):
    out = subprocess.run(["git", "-C", srcdir, "ls-files", "lib", "include", "daemon", "cli",
                          "tests/unit", "bench"], capture_output=True, text=True, check=True)
    files = [f for f in out.stdout.split() if f.endswith((".c", ".h"))]
    return [f for f in files if os.path.exists(os.path.join(srcdir, f))]


def strip_comments(text):
    return re.sub(r"/\*.*?\*/|//[^\n]*", lambda m: re.sub(r"[^\n]", " ", m.group(0)), text,
                  flags=re.S)


def check_sources(srcdir, problems):
    for rel in sources(srcdir):
        layer = layer_of(rel)
        if layer == "":
            problems.append(f"{rel}: not in a layer folder ({', '.join(LIB)})")
            continue
        with open(os.path.join(srcdir, rel), encoding="utf-8", errors="replace") as f:
            text = strip_comments(f.read())
        in_store = layer == "store"
        in_tests = rel.startswith("tests/")
        for n, line in enumerate(text.split("\n"), 1):
            m = INCLUDE.search(line)
            if m and layer is not None and not may_use(layer, m.group(1), call=False):
                problems.append(f"{rel}:{n}: {layer} includes a {m.group(1)} header: "
                                f"{line.strip()}")
            if m and m.group(1) not in RANK:
                problems.append(f"{rel}:{n}: no such layer {m.group(1)!r}")
            if not in_store and (SQLITE.search(line) or PRIVATE_SQL.search(line) or
                                 (SQL_LITERAL.search(line) and not in_tests)):
                problems.append(f"{rel}:{n}: SQL outside the store: {line.strip()}")


def objects(builddir, srcdir):
    """(object path, repo-relative source) for every compiled C file."""
    with open(os.path.join(builddir, "compile_commands.json")) as f:
        cmds = json.load(f)
    for c in cmds:
        src = os.path.relpath(os.path.normpath(os.path.join(c["directory"], c["file"])),
                              os.path.realpath(srcdir))
        obj = os.path.join(c["directory"], c["output"])
        if os.path.exists(obj):
            yield obj, src


def symbols(obj):
    out = subprocess.run(["nm", obj], capture_output=True, text=True, check=True).stdout
    defined, used = set(), set()
    for line in out.splitlines():
        parts = line.split()
        if len(parts) == 2 and parts[0] == "U":
            used.add(parts[1])
        elif len(parts) == 3 and parts[1] in "TDRBCGSV" and parts[1].isupper():
            defined.add((parts[2], parts[1]))
    return defined, used


def check_calls(builddir, srcdir, problems):
    owner, uses = {}, []
    for obj, src in objects(builddir, srcdir):
        layer = layer_of(src)
        if not layer:
            continue
        defined, used = symbols(obj)
        for s, kind in defined:
            owner.setdefault(s, (layer, src, kind))
        uses.append((layer, src, used))
    for layer, src, used in uses:
        for s in sorted(used):
            if s not in owner or not s.startswith("mw_"):
                continue
            dst, where, kind = owner[s]
            # Const tables (column and kind names) are vocabulary, like types; code is a call.
            if dst != layer and not may_use(layer, dst, call=kind == "T"):
                problems.append(f"{src}: {layer} calls {s} ({dst}, {where})")


def main():
    if len(sys.argv) < 2:
        print(__doc__)
        return 2
    srcdir = sys.argv[1]
    problems = []
    check_sources(srcdir, problems)
    if len(sys.argv) > 2:
        check_calls(sys.argv[2], srcdir, problems)
    for p in problems:
        print(p)
    print(f"layer check: {len(problems)} problem(s)")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
