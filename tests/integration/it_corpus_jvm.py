#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Issue 15 item 9, the corpus: Debian's OpenJDK 17 (java, -Xmx128m) starting a thread a
second that never ends, recorded by memwatchd at its default intervals (tick 5 s, smaps every
60 s). The issue saw THREADS #1 at 45 s, then an anon-mmap rule tied with it and listed first
from 75 s, and "thread stacks 0 B" for 505 threads: the JVM sizes its own stacks (-Xss), so
thread stacks are found by the threads' stack pointers, whatever their size.

One program file run by the JRE's source launcher (no javac in a JRE). Once the daemon stored
the JVM's first region row (the baseline), the program is told to start its threads; one
`memwatch report --json` per stored tick. Asserted: thread-leak is the #1 reported hypothesis
within 60 s of the leak's start and at every tick from 60 s until the recording ends (nothing
displaces it once the slow tier's regions arrive); the report names the runtime (JVM, its
-Xmx); the region table's thread stacks are not empty once the slow tier has sampled the
threads. Skips (77) only when java is not installed (scripts/install-deps.sh installs
openjdk-17-jre-headless).
"""
import os
import shutil
import subprocess

from corpus import (TICK_S, LeakWatch, TickPoller, describe, start_default_daemon, verdict,
                    wait_region_row)
from mwtest import check, run, skip, spawn, stop, tmpdir

RECORD_S = 90
SRC = """
public class ThreadLeak {
    public static void main(String[] a) throws Exception {
        Object lock = new Object();
        System.out.println("ready " + ProcessHandle.current().pid());
        System.out.flush();
        System.in.read(); // the test says when the leak starts
        for (int i = 0; i < 600; i++) {
            Thread t = new Thread(() -> {
                synchronized (lock) { try { lock.wait(); } catch (InterruptedException e) { } }
            });
            t.setDaemon(true);
            t.start();
            Thread.sleep(1000);
        }
    }
}
"""


def start_jvm():
    java = shutil.which("java")
    if not java:
        skip("java is not installed (openjdk-17-jre-headless)")
    src = os.path.join(tmpdir("mw-jvm-"), "ThreadLeak.java")
    with open(src, "w") as f:
        f.write(SRC)
    p = spawn([java, "-Xmx128m", "-Xss512k", "-XX:TieredStopAtLevel=1", src],
              stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    line = p.stdout.readline()
    if not line.startswith("ready "):
        raise RuntimeError(f"the JVM did not start: {line!r} (rc {p.poll()})")
    return p


def test_jvm_thread_leak():
    jvm = start_jvm()
    db = os.path.join(tmpdir("mw-jvm-"), "mw.db")
    daemon = start_default_daemon(db)
    wait_region_row(db, jvm.pid, daemon)
    poll = TickPoller(db, daemon)
    jvm.stdin.write("\n")
    jvm.stdin.flush()
    poll.start()
    watch, at, rep = LeakWatch("jvm-thread-leak", "thread-leak"), 0.0, None
    while at < RECORD_S - TICK_S / 2:
        at, reps = poll.next([jvm.pid])
        rep = reps[jvm.pid]
        threads = rep["metrics"]["threads"]["now"]
        print(f"{at:5.1f}s threads {threads}: {describe(rep)}", flush=True)
        watch.see(rep, at)
        # One growth, one verdict: the stacks' RSS is not an anon-mmap leak beside it.
        if at >= 60:
            others = [h["id"] for h in rep["hypotheses"]
                      if h["reported"] and h["id"] not in ("thread-leak",)]
            check(not others, f"{at:.0f}s: only thread-leak reported, got {describe(rep)}")
    watch.done()
    rt = rep["process"].get("runtime") or {}
    check(rt.get("name") == "JVM" and rt.get("heap_max_bytes") == 128 << 20
          and "jcmd" in (rt.get("next_step") or ""), f"runtime: {rt}")
    stacks = [r for r in rep["regions"] if r.get("region") == "thread_stacks"]
    last = stacks[0].get("trend", {}).get("last") if stacks else None
    print(f"thread stacks region, last: {last}", flush=True)
    check(last is not None and last > 0, f"thread stacks recorded: {stacks}")
    stop(jvm)
    stop(daemon)


if __name__ == "__main__":
    run([test_jvm_thread_leak])
