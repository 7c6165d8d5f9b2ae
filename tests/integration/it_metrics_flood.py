#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""The metrics listener under attack: 20 scrapers x 100 requests while 200
idle sockets are held open, slowloris clients trickle bytes and a client
that never reads has its responses pile up. Every scrape must get a 200,
garbage a 400 within a second, pipelined requests their responses in
order, and the ticks (read from the store) must keep their interval.
Also keep-alive rules, HEAD, and content negotiation (OpenMetrics checked
by prometheus_client's strict parser, text by promtool, when installed).
Only 127.0.0.1 is used."""
import os
import re
import shutil
import socket
import subprocess
import threading
import time

from mwtest import (MEMWATCHD, check, db_query, free_port, run, spawn, tmpdir,
                    wait_for_ticks)

INTERVAL = 0.5
PROM_ACCEPT = ("application/openmetrics-text;version=1.0.0,application/openmetrics-text;"
               "version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1")


class Reader:
    """Responses off one connection, by Content-Length (so pipelining and keep-alive work)."""

    def __init__(self, sock):
        self.s, self.buf = sock, b""

    def _fill(self):
        chunk = self.s.recv(65536)
        if not chunk:
            raise EOFError
        self.buf += chunk

    def response(self, head_only=False):
        while b"\r\n\r\n" not in self.buf:
            self._fill()
        head, self.buf = self.buf.split(b"\r\n\r\n", 1)
        head = head.decode()
        m = re.search(r"(?im)^content-length: (\d+)", head)
        n = 0 if head_only or not m else int(m.group(1))
        while len(self.buf) < n:
            self._fill()
        body, self.buf = self.buf[:n], self.buf[n:]
        return int(head.split()[1]), head, body

    def closed(self, timeout=5):
        """True when the server closes the connection (EOF or reset) within timeout."""
        self.s.settimeout(timeout)
        try:
            return self.s.recv(1) == b""
        except ConnectionResetError:
            return True
        except socket.timeout:
            return False


def connect(port, timeout=10):
    s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    return s, Reader(s)


def start(d, port):
    db, conf = os.path.join(d, "mw.db"), os.path.join(d, "mw.conf")
    with open(conf, "w") as f:
        f.write(f"listen = 127.0.0.1:{port}\n")
    log = open(db + ".log", "ab")
    p = spawn([MEMWATCHD, "--foreground", "--config", conf, "--db", db, "--interval",
               str(INTERVAL)], stderr=log)
    log.close()
    wait_for_ticks(db, 3, p)
    return db, p


def families(text):
    return {m.group(1): float(m.group(2))
            for m in re.finditer(r"(?m)^(memwatch_[a-z_]+) (\S+)$", text)}


def get(port, extra=""):
    s, r = connect(port)
    s.sendall(f"GET /metrics HTTP/1.1\r\nHost: t\r\n{extra}Connection: close\r\n\r\n".encode())
    out = r.response()
    s.close()
    return out


def test_semantics(port):
    # HTTP/1.0 closes after the response; asking for keep-alive keeps it.
    s, r = connect(port)
    s.sendall(b"GET /metrics HTTP/1.0\r\n\r\n")
    code, head, _ = r.response()
    check(code == 200 and "connection: close" in head.lower(), f"1.0 response: {head!r}")
    check(r.closed(), "HTTP/1.0 without keep-alive: closed after the response")
    s.close()
    s, r = connect(port)
    s.sendall(b"GET /metrics HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
    code1 = r.response()[0]
    s.sendall(b"HEAD /metrics HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
    code2, head, _ = r.response(head_only=True)
    s.sendall(b"GET /nope HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
    code3 = r.response()[0]
    check((code1, code2, code3) == (200, 200, 404), f"1.0 keep-alive: {code1} {code2} {code3}")
    check(int(re.search(r"(?i)content-length: (\d+)", head).group(1)) > 1000,
          "HEAD carries the length of the body it does not send")
    s.close()
    # HTTP/1.1 persists; Connection: close is honoured.
    s, r = connect(port)
    s.sendall(b"GET /metrics HTTP/1.1\r\nHost: t\r\n\r\n")
    s.sendall(b"GET /metrics HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
    check([r.response()[0], r.response()[0]] == [200, 200], "two requests on one 1.1 connection")
    check(r.closed(), "HTTP/1.1 Connection: close honoured")
    s.close()
    # Two pipelined requests in one write: two responses, in order.
    s, r = connect(port)
    s.sendall(b"GET /nope HTTP/1.1\r\nHost: t\r\n\r\nGET /metrics HTTP/1.1\r\nHost: t\r\n"
              b"Connection: close\r\n\r\n")
    first, second = r.response()[0], r.response()[0]
    check((first, second) == (404, 200), f"pipelined responses in order: {first} {second}")
    s.close()

    # Content negotiation.
    code, head, body = get(port, f"Accept: {PROM_ACCEPT}\r\n")
    text = body.decode()
    check(code == 200 and "content-type: application/openmetrics-text; version=1.0.0; "
          "charset=utf-8" in head.lower(), f"OpenMetrics asked, given: {head!r}")
    check(text.endswith("# EOF\n"), "OpenMetrics body ends with # EOF")
    check("# TYPE memwatch_daemon_ticks counter\n" in text and
          re.search(r"(?m)^memwatch_daemon_ticks_total \d", text),
          "an OpenMetrics counter: family without _total, sample with it")
    om_check = ("import sys\nfrom prometheus_client.openmetrics.parser import "
                "text_string_to_metric_families as p\nprint(len(list(p(sys.stdin.read()))))")
    for py in ("python3", "/usr/bin/python3"):
        r = subprocess.run([py, "-c", om_check], input=text, capture_output=True, text=True)
        if "No module named" not in r.stderr:
            check(r.returncode == 0, f"prometheus_client OpenMetrics parser: {r.stderr[-500:]}")
            print(f"OpenMetrics parser: {r.stdout.strip()} families")
            break
    else:
        print("prometheus_client not installed: OpenMetrics checked by hand only")
    code, head, body = get(port, "Accept: text/plain;version=0.0.4\r\n")
    check("text/plain; version=0.0.4; charset=utf-8" in head and not body.endswith(b"# EOF\n"),
          f"text format: {head!r}")
    promtool = shutil.which("promtool")
    if promtool:
        r = subprocess.run([promtool, "check", "metrics"], input=body.decode(),
                           capture_output=True, text=True)
        check(r.returncode == 0, f"promtool check metrics: {r.stdout} {r.stderr}")
    else:
        print("promtool not installed (Debian package prometheus)")


def scraper(port, n, keep_alive, results):
    ok = retries = 0
    s = r = None
    for _ in range(n):
        time.sleep(0.03)  # spread over several ticks, so the tick gaps below mean something
        for attempt in range(2):
            try:
                if s is None:
                    s, r = connect(port)
                s.sendall(b"GET /metrics HTTP/1.1\r\nHost: t\r\n" +
                          (b"" if keep_alive else b"Connection: close\r\n") + b"\r\n")
                code, _, body = r.response()
                ok += code == 200 and len(body) > 1000
                if not keep_alive:
                    s.close()
                    s = None
                break
            except (EOFError, ConnectionError):
                # A keep-alive connection closed before any response byte: retried once, as
                # any HTTP client does (RFC 9112 9.3.1). Counted and printed.
                s.close()
                s = None
                retries += 1
                if not keep_alive or attempt:
                    break
    if s:
        s.close()
    results.append((ok, retries))


def slowloris(port, stop, cut):
    while not stop.is_set():
        s = socket.create_connection(("127.0.0.1", port))
        try:
            for b in b"GET /metrics HTTP/1.1\r\nHost: t\r\n" + b"X-Slow: aaaa\r\n" * 200:
                if stop.wait(0.05):
                    break
                s.send(bytes([b]))
        except OSError:
            cut.append(1)
        s.close()


def test_flood(db, port):
    stop = threading.Event()
    idle = [socket.create_connection(("127.0.0.1", port)) for _ in range(200)]
    cut = []
    slow = [threading.Thread(target=slowloris, args=(port, stop, cut)) for _ in range(5)]
    # A client that pipelines requests and never reads: its responses fill the socket.
    hog = socket.socket()
    hog.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    hog.connect(("127.0.0.1", port))
    hog.setblocking(False)
    hog_sent = 0
    for _ in range(2000):
        try:
            hog_sent += hog.send(b"GET /metrics HTTP/1.1\r\nHost: t\r\n\r\n")
        except BlockingIOError:
            break
    results = []
    scrapers = [threading.Thread(target=scraper, args=(port, 100, i % 2 == 0, results))
                for i in range(20)]
    t0 = time.time()
    for t in slow + scrapers:
        t.start()
    # Garbage during the flood: a 400 within a second.
    for junk in (b"GET /met\0rics HTTP/1.1\r\n", b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03",
                 os.urandom(64).replace(b"G", b"\0")):
        s, r = connect(port)
        t = time.monotonic()
        s.sendall(junk)
        try:
            code = r.response()[0]
        except (EOFError, ConnectionError):
            code = None
        took = time.monotonic() - t
        check(code == 400 and took < 1.0, f"garbage {junk[:8]!r}: {code} after {took:.3f}s")
        s.close()
    for t in scrapers:
        t.join(timeout=120)
    flood_s = time.time() - t0
    answered = sum(ok for ok, _ in results)
    retries = sum(rt for _, rt in results)
    print(f"scrapes answered 200: {answered}/2000 in {flood_s:.1f}s "
          f"({retries} keep-alive retries), slowloris cut {len(cut)} times")
    check(answered == 2000, f"every scrape answered: {answered}/2000")
    # The hog is dropped at its send deadline (10 s), not before its socket filled.
    hog.setblocking(True)
    hog.settimeout(1)
    dropped_after, t = None, time.monotonic()
    while time.monotonic() - t < 30 and dropped_after is None:
        try:
            time.sleep(0.5)
            if hog.send(b"x") == 0:
                dropped_after = time.monotonic() - t
        except OSError:
            dropped_after = time.monotonic() - t
    check(dropped_after is not None, "a client that never reads is dropped")
    print(f"non-reading client ({hog_sent} request bytes sent) dropped "
          f"{dropped_after if dropped_after is None else round(dropped_after, 1)}s after "
          f"the flood")
    stop.set()
    for t in slow:
        t.join(timeout=10)
    t1 = time.time()
    for s in idle:
        s.close()
    hog.close()

    # Ticks kept their interval during the flood (timestamps from the store).
    rows = db_query(db, "SELECT t_ms FROM ticks WHERE t_ms BETWEEN ? AND ? ORDER BY t_ms",
                    (int(t0 * 1000), int(t1 * 1000)))
    gaps = [(b - a) / 1000 for (a,), (b,) in zip(rows, rows[1:])]
    check(len(gaps) >= 5, f"ticks during the flood: {len(rows)}")
    if gaps:
        mean = sum(gaps) / len(gaps)
        print(f"tick gaps during the flood: {len(gaps)}, mean {mean:.3f}s, "
              f"max {max(gaps):.3f}s (interval {INTERVAL}s)")
        check(abs(mean - INTERVAL) < 0.15 * INTERVAL, f"mean tick gap {mean:.3f}s")
        # One skipped tick (a gap of two intervals) would mean a wait of a whole interval.
        check(max(gaps) < 1.9 * INTERVAL, f"no tick delayed by an interval: {max(gaps):.3f}s")
    code, _, body = get(port)
    fams = families(body.decode())
    print("listener: evicted {:.0f}, refused {:.0f}, timed out {:.0f}; tick max {:.3f}s".format(
        fams.get("memwatch_metrics_evicted_connections_total", -1),
        fams.get("memwatch_metrics_refused_connections_total", -1),
        fams.get("memwatch_metrics_timed_out_connections_total", -1),
        fams.get("memwatch_daemon_tick_duration_max_seconds", -1)))
    check(fams.get("memwatch_metrics_refused_connections_total") == 0,
          "no scraper turned away with a 503: idle and slow clients made room")


def main():
    d = tmpdir()
    port = free_port()
    db, p = start(d, port)
    test_semantics(port)
    test_flood(db, port)
    check(p.poll() is None, "memwatchd still running")
    p.terminate()
    check(p.wait(timeout=20) == 0, "memwatchd exits cleanly (no leak under ASan)")


if __name__ == "__main__":
    run([main])
