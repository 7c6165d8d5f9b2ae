#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Run one libFuzzer target for a bounded time (suite fuzz, -Dfuzz=true).

Usage: run_fuzz.py FUZZER NAME BUILDDIR INPUT...
The corpus is a temporary copy of the inputs (files, or the files in
directories), so the seeds in the tree are never rewritten. Prints the
executions; on a crash, leak, UB or timeout the input is copied into
BUILDDIR/crashes/NAME/ and the test fails, saying where to keep it.
MW_FUZZ_SECONDS (default 20) bounds the run.
"""
import os
import re
import shutil
import subprocess
import sys
import tempfile


def copy_inputs(inputs, corpus):
    n = 0
    for path in inputs:
        if os.path.isdir(path):
            files = [os.path.join(path, f) for f in sorted(os.listdir(path))
                     if not f.startswith(".")]
        elif os.path.isfile(path):
            files = [path]
        else:
            continue
        for f in files:
            if os.path.isfile(f):
                shutil.copyfile(f, os.path.join(corpus, f"seed{n:04d}"))
                n += 1
    return n


def main():
    fuzzer, name, builddir, inputs = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4:]
    seconds = int(os.environ.get("MW_FUZZ_SECONDS",
                                 os.environ.get("MW_FUZZ_SECONDS_DEFAULT", "20")))
    crashes = os.path.join(builddir, "crashes", name)
    os.makedirs(crashes, exist_ok=True)
    # Inputs kept by earlier runs stay (they may not be saved yet) but are not this run's.
    before = set(os.listdir(crashes))
    with tempfile.TemporaryDirectory(prefix=f"mw-fuzz-{name}-") as corpus:
        seeds = copy_inputs(inputs, corpus)
        if seeds == 0:
            print(f"{name}: no seeds in {inputs}")
            return 1
        cmd = [fuzzer, corpus, f"-max_total_time={seconds}", "-timeout=5",
               "-rss_limit_mb=1024", "-print_final_stats=1",
               f"-artifact_prefix={crashes}/"]
        print(f"{name}: {seeds} seeds, {seconds} s: {' '.join(cmd)}", flush=True)
        env = dict(os.environ)
        # Leaks are findings too; UB is fatal (the build sets no-recover).
        env.setdefault("ASAN_OPTIONS", "detect_leaks=1")
        r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                           env=env, text=True, errors="replace")
    out = r.stdout
    m = re.search(r"stat::number_of_executed_units:\s*(\d+)", out)
    execs = m.group(1) if m else "?"
    found = sorted(os.path.join(crashes, f) for f in set(os.listdir(crashes)) - before)
    if r.returncode != 0 or found:
        print(out[-12000:])
        print(f"{name}: FAILED after {execs} executions (exit {r.returncode})")
        for f in found:
            print(f"{name}: input kept at {f}\n"
                  f"  reproduce: {fuzzer} {f}\n"
                  f"  once fixed, keep it as a regression test: "
                  f"cp {f} tests/fuzz/regress/{name}/")
        return 1
    print(f"{name}: {execs} executions in {seconds} s, no crash")
    return 0


if __name__ == "__main__":
    sys.exit(main())
