#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Issue 15 item 9, the corpus: Debian's python3 leaking, and a python3 cache that fills and
stops, side by side under one memwatchd at its default intervals (tick 5 s, smaps every 60 s).

- The leak: `python3 -c` appending small objects (two-int lists, CPython's small-object
  allocator) to a list that is never emptied, about 2 MB/s. Asserted: anon-mmap-leak is the #1
  reported hypothesis, with a time to exhaustion, within 60 s of the leak's start, and still #1
  at every tick from 60 s until the recording ends (RECORD_S), so nothing (e.g. the OOM risk)
  displaces it once the slow tier's regions arrive.
- The control: a dict cache filling to about 50 MB over FILL_S (20 s), then serving lookups
  with no new entries. Asserted: once it has stayed flat for as long as it filled (from 2 x
  FILL_S on), no leak rule and no OOM risk is reported at any tick. Not asserted while it
  fills, only printed: a cache filling at 2.5 MB/s is, until it stops, the same ramp as a
  leak, and nothing recorded says where it will stop (a dict has no fixed mapping to fill,
  unlike PostgreSQL's shared_buffers); a report then of "leak" is expected, not a false alarm.
  Between FILL_S and 2 x FILL_S it is printed too: a pause as long as a few ticks is also what
  a leak between two bursts looks like.

Both start before the daemon and wait on stdin; each begins once the daemon stored its first
region row, so the slow tier's next pass comes about 60 s later, as it would for a leak that
starts at any moment. Each tick's hypotheses are printed, and `verdict:` lines for the issue's
table. Skips (77) only when /usr/bin/python3 is missing.

Why anon-mmap-leak, not heap-growth: the growth is CPython's small-object arenas (obmalloc maps
1 MiB arenas; a growing list's array is a large malloc, an mmap too), unnamed anonymous
mappings, while [heap] (brk) stays where it was; smaps and eBPF's page faults both say so, and
the rule's title names arenas and pools.
"""
import os
import subprocess

from corpus import (TICK_S, LeakWatch, TickPoller, alarms, check_quiet, describe,
                    start_default_daemon, verdict, vm_rss, wait_region_row, where_resident)
from mwtest import check, run, skip, spawn, stop, tmpdir

PY = "/usr/bin/python3"
EXPECTED = "anon-mmap-leak"
RECORD_S = 75        # past DIAGNOSIS_S: the first slow-tier pass after 60 s is seen too
FILL_S = 20
CACHE_MB = 50

# 1600 two-int lists every 0.1 s: about 1.8 MB/s of 56-byte objects and their pointers.
LEAK = """
import sys, time
print("ready", flush=True)
sys.stdin.readline()
keep, t = [], time.monotonic()
while True:
    for i in range(1600):
        keep.append([i, i])
    t += 0.1
    time.sleep(max(0.0, t - time.monotonic()))
"""
# A cache: 1 KiB values under string keys, CACHE_MB over FILL_S, then hits only.
CACHE = f"""
import random, sys, time
print("ready", flush=True)
sys.stdin.readline()
cache, n, t = {{}}, {CACHE_MB} * 1000, time.monotonic()
per = n // ({FILL_S} * 10)
for step in range(0, n, per):
    for i in range(step, min(n, step + per)):
        cache["key:%d" % i] = ("%d:" % i).encode().ljust(1000, b".")
    t += 0.1
    time.sleep(max(0.0, t - time.monotonic()))
print("full", len(cache), flush=True)
hits = 0
while True:
    for _ in range(1000):
        hits += len(cache["key:%d" % random.randrange(n)])
    time.sleep(0.1)
"""


def start(src):
    p = spawn([PY, "-c", src], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    line = p.stdout.readline()
    if line.strip() != "ready":
        raise RuntimeError(f"python3 -c: not ready ({line!r}, rc={p.poll()})")
    return p


def go(p):
    p.stdin.write("go\n")
    p.stdin.flush()


def test_python_leak_and_cache():
    if not os.access(PY, os.X_OK):
        skip(f"{PY} is not installed")
    db = os.path.join(tmpdir("mw-py-"), "mw.db")
    leak, cache = start(LEAK), start(CACHE)
    daemon = start_default_daemon(db)
    for p in (leak, cache):
        wait_region_row(db, p.pid, daemon)
    poll = TickPoller(db, daemon)
    poll.next([])  # one tick of both idle after their baseline
    base = {p.pid: (vm_rss(p.pid), where_resident(p.pid)) for p in (leak, cache)}
    go(leak)
    go(cache)
    poll.start()

    watch, at = LeakWatch("python-list-leak", EXPECTED), 0.0
    seen_filling, seen_paused, seen_flat, flat_checks = [], [], [], 0
    reps, rss_flat = {}, 0
    while at < RECORD_S - TICK_S / 2:
        at, reps = poll.next([leak.pid, cache.pid])
        lr, cr = reps[leak.pid], reps[cache.pid]
        print(f"{at:5.1f}s leak rss {vm_rss(leak.pid) >> 20} MiB: {describe(lr)}", flush=True)
        print(f"{at:5.1f}s cache rss {vm_rss(cache.pid) >> 20} MiB: {describe(cr)}", flush=True)
        watch.see(lr, at)
        if at >= 2 * FILL_S:
            flat_checks += 1
            rss_flat = rss_flat or vm_rss(cache.pid)
            check_quiet("python cache, flat", cr, at, seen_flat)
        else:
            seen = seen_filling if at <= FILL_S else seen_paused
            seen.extend(a for a in alarms(cr) if a not in seen)

    watch.done()
    # Item 8: the report says it is CPython, and where its objects live.
    rt = reps[leak.pid]["process"].get("runtime") or {}
    check(rt.get("name") == "CPython" and "obmalloc arenas" in (rt.get("note") or "")
          and "PYTHONTRACEMALLOC" in (rt.get("next_step") or ""), f"runtime: {rt}")
    verdict("python-dict-cache", None, seen_flat[0] if seen_flat else None,
            None if seen_flat else at)
    check(flat_checks >= 3, f"python cache: checked at {flat_checks} ticks once flat (>= 3)")
    print(f"python cache while filling (not asserted): reported {seen_filling or 'nothing'};"
          f" flat for less than {FILL_S} s: {seen_paused or 'nothing'}", flush=True)

    for name, p in (("leak", leak), ("cache", cache)):
        rss0, (heap0, anon0) = base[p.pid]
        heap1, anon1 = where_resident(p.pid)
        print(f"{name}: VmRSS {rss0 >> 20} -> {vm_rss(p.pid) >> 20} MiB; resident [heap]"
              f" {heap0 >> 20} -> {heap1 >> 20} MiB, unnamed anon {anon0 >> 20} -> {anon1 >> 20}"
              f" MiB (smaps, read by the test); report regions: " + ", ".join(
                  f"{x['region']} {(x.get('trend') or {}).get('last')}"
                  for x in reps[p.pid]["regions"] if x["region"] in ("heap", "anon")),
              flush=True)
    # Not vacuous: the leak grew throughout, the cache filled and then stayed put.
    grown = vm_rss(leak.pid) - base[leak.pid][0]
    check(grown >= 96 << 20, f"the leak grew by {grown >> 20} MiB (>= 96)")
    filled = vm_rss(cache.pid) - base[cache.pid][0]
    check(filled >= (CACHE_MB * 3 // 4) << 20, f"the cache filled by {filled >> 20} MiB")
    check(cache.stdout.readline().startswith("full "), "the cache said it was full")
    moved = vm_rss(cache.pid) - rss_flat
    check(abs(moved) < 4 << 20, f"the cache stayed flat once full: {moved >> 10} KiB since")
    stop(leak)
    stop(cache)
    stop(daemon, timeout=20)


if __name__ == "__main__":
    run([test_python_leak_and_cache])
