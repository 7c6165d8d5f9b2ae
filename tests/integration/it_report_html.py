#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""memwatch report --html: one self-contained page with one SVG chart per
region that has data (checked against the JSON report of the same store),
/proc text HTML-escaped, and the page loads and renders in headless
Chromium (skipped with the reason when Chromium is not installed)."""
import json
import os
import re
import shutil
import socket
import subprocess
import tempfile
import time
from html.parser import HTMLParser

from mwtest import (MEMWATCH, WORKLOADS, check, cli, run, skip, spawn, start_daemon, stop, tmpdir)

state = {}


class Page(HTMLParser):
    def __init__(self):
        super().__init__()
        self.charts = {}
        self.cur = None
        self.scripts = 0
        self.hyps = []
        self.text = []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "svg" and "region-chart" in (a.get("class") or "").split():
            self.cur = a.get("data-region")
            self.charts[self.cur] = {"declared": int(a.get("data-points", "-1")), "points": []}
        elif tag == "polyline" and self.cur:
            pts = [tuple(map(float, p.split(","))) for p in a.get("points", "").split()]
            self.charts[self.cur]["points"] = pts
        elif tag == "script":
            self.scripts += 1
        elif tag == "li" and "hyp" in (a.get("class") or ""):
            self.hyps.append(a.get("data-tag"))

    def handle_endtag(self, tag):
        if tag == "svg":
            self.cur = None

    def handle_data(self, data):
        self.text.append(data)


def start_named(d, name, target, *args):
    """Run workload target under a hostile name (its comm), wait for 'ready'."""
    link = os.path.join(d, name)
    os.symlink(os.path.join(WORKLOADS, target), link)
    p = spawn([link, *map(str, args)], stdout=subprocess.PIPE, text=True)
    line = p.stdout.readline()
    if not line.startswith("ready "):
        raise RuntimeError(f"{target} not ready: {line!r}")
    return p


def test_html_page():
    d = tmpdir()
    db = os.path.join(d, "mw.db")
    daemon = start_daemon(db, interval=0.5, extra=["--slow-interval", "1"], wait_ticks=1)
    evil = "<i>&\"x'"
    g = start_named(d, evil, "heap_grow", "--rate", 2 << 20, "--for", 60)
    time.sleep(15)
    html = os.path.join(d, "report.html")
    rc, out, err = cli("report", g.pid, "--db", db, "--html", html, "--json", "--since", "10m")
    stop(g)
    stop(daemon)
    check(rc == 0, f"report --html exit code {rc}: {err}")
    rep = json.loads(out)
    with open(html, encoding="utf-8") as f:
        page = f.read()
    state["html"] = html
    p = Page()
    p.feed(page)
    with_data = {r["region"]: r for r in rep["regions"] if len(r["series"]["values"]) >= 2}
    check(with_data, "the JSON report has regions with data")
    check(set(p.charts) == set(with_data),
          f"one chart per region with data: {sorted(p.charts)} vs {sorted(with_data)}")
    for region, c in p.charts.items():
        n = len(with_data.get(region, {}).get("series", {}).get("values", []))
        check(c["declared"] == len(c["points"]) == n,
              f"{region}: {len(c['points'])} plotted points, {c['declared']} declared, {n} in JSON")
        check(all(0 <= x <= 640 and 0 <= y <= 160 for x, y in c["points"]),
              f"{region}: points inside the chart")
    heap = p.charts.get("heap", {}).get("points", [])
    # SVG y grows downwards: a growing heap ends higher (smaller y) than it started.
    check(len(heap) > 2 and heap[-1][1] < heap[0][1], "heap chart rises")
    # The OOM forecast may rank first when free memory is short (a shared CI machine):
    # the growth hypothesis that explains it must be HEAP.
    growth = [h for h in p.hyps if h != "OOM"]
    check(growth and growth[0] == "HEAP", f"hypotheses listed, HEAP first: {p.hyps}")
    me = socket.gethostname()
    check(f'<tr><td>host</td><td class="host">{me}</td></tr>' in page and rep["hostname"] == me,
          f"the header names the recording host ({me!r}), as the JSON does")
    check(p.scripts == 0, "no script")
    check("http://" not in page and "https://" not in page and " src=" not in page,
          "no external URL")
    check(evil not in page and "&lt;i&gt;&amp;&quot;x&#39;" in page,
          "comm is HTML-escaped")
    check(evil in "".join(p.text), "and reads back as the original text")
    # Text report: a sparkline on the growing heap row, Unicode blocks only in a UTF-8 locale.
    for loc, utf8 in (("C.UTF-8", True), ("C", False)):
        env = dict(os.environ, LC_ALL=loc)
        r = subprocess.run([MEMWATCH, "report", str(g.pid), "--db", db, "--since", "10m"],
                           capture_output=True, env=env, timeout=60)
        text = r.stdout.decode("utf-8", "replace")
        heap_row = [ln for ln in text.splitlines() if ln.startswith("  heap ")]
        check(r.returncode == 0 and heap_row, f"text report in {loc}: {r.returncode}")
        if heap_row:
            blocks = any(c in heap_row[0] for c in "\u2581\u2582\u2583\u2584\u2585\u2586\u2587\u2588")
            # A rising heap reaches the top level ('#') in the last quarter of the line.
            spark = heap_row[0].rstrip().split()[-1]
            ascii_spark = "#" in spark[-max(1, len(spark) // 4):]
            check(blocks if utf8 else (ascii_spark and max(r.stdout) < 0x80),
                  f"{loc}: sparkline style in {heap_row[0]!r}")
        ranked = re.findall(r"^\s*\d+\. \[([A-Z]+)\]", text, re.M)
        check([t for t in ranked if t != "OOM"][:1] == ["HEAP"] and "next: pmap -X" in text,
              f"{loc}: ranked hypothesis, HEAP first among growth ({ranked})")
    # --since: durations and absolute times bound the window.
    for since in ("30m", "6h", "2d", f"@{int(time.time()) - 5}"):
        rc, out, err = cli("report", g.pid, "--db", db, "--since", since, "--json")
        check(rc == 0, f"--since {since}: rc {rc} {err}")
        if rc == 0:
            w = json.loads(out)["window"]
            if since.startswith("@"):
                check(w["from_ms"] >= (int(since[1:])) * 1000 and w["seconds"] <= 6,
                      f"--since {since} starts the window there: {w}")
            else:
                check(w["seconds"] >= 10, f"--since {since} covers the recording: {w}")
    rc, _, err = cli("report", "1", "--db", db, "--html", os.path.join(d, "no/such/dir/x.html"))
    check(rc == 1 and "no/such/dir/x.html" in err, f"unwritable --html names the file: {err!r}")


def test_chromium_renders():
    html = state.get("html")
    if not html:
        check(False, "page written")
        return
    exe = shutil.which("chromium") or shutil.which("chromium-browser")
    if not exe:
        skip("chromium is not installed (apt-get install chromium)")
    prof = tempfile.mkdtemp(prefix="mw-chromium-")
    shot = os.path.join(os.path.dirname(html), "shot.png")
    base = [exe, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
            "--disable-component-update", "--disable-sync", "--no-first-run",
            f"--user-data-dir={prof}"]
    try:
        r = subprocess.run(base + ["--dump-dom", "file://" + html], capture_output=True,
                           text=True, timeout=90)
        check(r.returncode == 0, f"chromium --dump-dom exit {r.returncode}: {r.stderr[-500:]}")
        p = Page()
        p.feed(r.stdout)
        check(len(p.charts) >= 2 and "heap" in p.charts,
              f"the loaded DOM has the charts: {sorted(p.charts)}")
        r = subprocess.run(base + [f"--screenshot={shot}", "--window-size=1200,2000",
                                   "file://" + html], capture_output=True, text=True, timeout=90)
        check(r.returncode == 0, f"chromium --screenshot exit {r.returncode}")
        size = os.path.getsize(shot) if os.path.exists(shot) else 0
        check(size > 20000, f"screenshot is non-trivial ({size} bytes)")
        with open(shot, "rb") as f:
            check(f.read(8) == b"\x89PNG\r\n\x1a\n", "screenshot is a PNG")
    finally:
        shutil.rmtree(prof, True)


if __name__ == "__main__":
    run([test_html_page, test_chromium_renders])
