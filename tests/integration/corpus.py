# SPDX-License-Identifier: GPL-2.0-or-later
"""Shared bits of the real-software corpus (tests/integration/it_corpus_*.py, it_postgres_shm.py;
meson suite 'corpus'): the daemon at its default intervals, one `memwatch report --json` per
stored tick, and the one-line verdicts the issue's table is made of."""
import time

from mwtest import check, cli_json, db_scalar, start_daemon, ticks, wait_for_ticks

# The daemon's defaults (memwatchd --help): a tick every 5 s, smaps regions every 60 s.
TICK_S = 5
SLOW_S = 60
# The promise: the right #1 within this long of a leak's start.
DIAGNOSIS_S = 60

LEAK_RULES = {"heap-growth", "heap-fragmentation", "anon-mmap-leak", "file-mapping-growth",
              "library-growth", "shm-leak"}


def start_default_daemon(db):
    """memwatchd at the default intervals, said explicitly so a changed default shows here."""
    return start_daemon(db, interval=TICK_S, extra=["--slow-interval", str(SLOW_S)],
                        wait_ticks=1)


def wait_region_row(db, pid, daemon, timeout=30):
    """Until the slow tier stored pid's first region row: the baseline a leak starts from."""
    deadline = time.monotonic() + timeout
    sql = ("SELECT count(*) FROM region_samples r JOIN procs p ON p.id = r.proc"
           " WHERE p.pid = ? AND r.err IS NULL")
    while time.monotonic() < deadline:
        if daemon.poll() is not None:
            raise RuntimeError(f"memwatchd exited with {daemon.returncode}")
        if (db_scalar(db, sql, (pid,)) or 0) > 0:
            return
        time.sleep(0.2)
    raise RuntimeError(f"no region row for pid {pid} after {timeout}s")


def reported(rep):
    """The hypotheses `memwatch report` prints: score at or above the verdict's threshold."""
    return [h for h in rep["hypotheses"] if h["reported"]]


def top_rule(rep):
    """The #1 reported hypothesis's rule id, or None when nothing is reported."""
    r = reported(rep)
    return r[0]["id"] if r else None


def describe(rep, n=4):
    """Each of the first n hypotheses: rule, score, reported or noted, time to exhaustion."""
    out = []
    for h in rep["hypotheses"][:n]:
        tte = h["time_to_exhaustion_s"]
        out.append(f"{h['id']} {h['score']:.2f} {'reported' if h['reported'] else 'noted'}"
                   f" tte={'-' if tte is None else f'{tte:.0f}s'}"
                   + (f" ({h['note']})" if h["note"] else ""))
    return "; ".join(out) or "no hypothesis"


class TickPoller:
    """One report per process each time the daemon stores a tick.

    at(): seconds since start(), taken when the tick was seen in the store (before the reports
    ran, so the CLI's own time is not counted against the daemon)."""

    def __init__(self, db, daemon):
        self.db, self.daemon = db, daemon
        self.t0 = time.monotonic()

    def start(self):
        self.t0 = time.monotonic()

    def next(self, pids, timeout=3 * TICK_S):
        """Wait for the next stored tick; returns (seconds since start, {pid: report})."""
        wait_for_ticks(self.db, ticks(self.db) + 1, self.daemon, timeout=timeout)
        at = time.monotonic() - self.t0
        return at, {pid: cli_json("report", pid, "--db", self.db) for pid in pids}


def verdict(case, expected, got, at):
    """The issue's table row; at: seconds (None: never)."""
    print(f"verdict: {case} expected={expected or 'none'} got={got or 'none'}"
          f" at={'never' if at is None else f'{at:.0f}'}", flush=True)


def alarms(rep):
    """The reported leak rules and OOM risk: what a control must never raise."""
    return [h["id"] for h in reported(rep) if h["id"] in LEAK_RULES or h["id"] == "oom-risk"]


def check_quiet(name, rep, at, seen):
    """A control, or a process after its memory was given back: no leak rule and no OOM risk
    reported. seen collects the rules that were; returns whether this report was quiet."""
    bad = alarms(rep)
    seen.extend(b for b in bad if b not in seen)
    return check(not bad, f"{name} at {at:.0f}s: no leak rule and no OOM risk reported, got"
                 f" {describe(rep)}")


def check_leak_top(name, rule, rep, at):
    """rule is the #1 reported hypothesis, with a time to exhaustion."""
    h = reported(rep)[0] if reported(rep) else None
    ok = check(h is not None and h["id"] == rule,
               f"{name} at {at:.0f}s: {rule} ranks #1, got {describe(rep)}")
    if ok:
        tte = h["time_to_exhaustion_s"]
        check(tte is not None and tte > 0 and h["exhaustion_basis"],
              f"{name} at {at:.0f}s: {rule} has a time to exhaustion ({tte},"
              f" {h['exhaustion_basis']})")
    return ok


class LeakWatch:
    """A leak's reports, one per tick from its start: rule must be #1 (with a time to
    exhaustion) by DIAGNOSIS_S, and at every tick from DIAGNOSIS_S on, so nothing displaces it
    once the slow tier's regions arrive."""

    def __init__(self, case, rule):
        self.case, self.rule = case, rule
        self.first_ok, self.got = None, None

    def see(self, rep, at):
        if at <= DIAGNOSIS_S and self.first_ok is None:
            self.got = top_rule(rep)
            if self.got == self.rule and check_leak_top(self.case, self.rule, rep, at):
                self.first_ok = at
        if at >= DIAGNOSIS_S:
            check_leak_top(self.case, self.rule, rep, at)

    def done(self):
        """The verdict line; got is the #1 at the last tick before DIAGNOSIS_S when it failed."""
        verdict(self.case, self.rule, self.got, self.first_ok)
        check(self.first_ok is not None,
              f"{self.case}: {self.rule} ranked #1 within {DIAGNOSIS_S}s")


def vm_rss(pid):
    """VmRSS in bytes, read now."""
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) << 10
    return 0


def where_resident(pid):
    """Resident bytes of [heap] and of unnamed anonymous mappings, from /proc/PID/smaps, read
    by the test itself: where the process's memory really is, whatever memwatch says."""
    heap = anon = 0
    kind = None
    with open(f"/proc/{pid}/smaps") as f:
        for line in f:
            first = line.split(None, 1)[0]
            if "-" in first and not first.endswith(":"):
                parts = line.split()
                path = parts[5] if len(parts) > 5 else ""
                kind = "heap" if path == "[heap]" else "anon" if path == "" else None
            elif first == "Rss:" and kind:
                v = int(line.split()[1]) << 10
                if kind == "heap":
                    heap += v
                else:
                    anon += v
    return heap, anon
