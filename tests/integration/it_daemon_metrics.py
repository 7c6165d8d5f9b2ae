#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""The metrics listener: /metrics parses as Prometheus text (a strict parser
below, and `promtool check metrics` when installed), carries the expected
series with hostile comm values escaped, and a slow or oversized client
cannot stall the tick. Only 127.0.0.1 is used."""
import math
import os
import re
import shutil
import socket
import subprocess
import time

from mwtest import (MEMWATCHD, check, free_port, run, spawn, start_workload, stop, ticks, tmpdir,
                    wait_for_ticks, WORKLOADS, skip)

NAME = r"[a-zA-Z_:][a-zA-Z0-9_:]*"
LABEL = r"[a-zA-Z_][a-zA-Z0-9_]*"
TYPES = {"counter", "gauge", "histogram", "summary", "untyped"}


class ParseError(Exception):
    pass


def parse_label_value(s, i, lineno):
    """s[i] is just after the opening quote; returns (value, index after closing quote)."""
    out = []
    while i < len(s):
        c = s[i]
        if c == "\\":
            if i + 1 >= len(s) or s[i + 1] not in '\\"n':
                raise ParseError(f"line {lineno}: bad escape in label value")
            out.append({"\\": "\\", '"': '"', "n": "\n"}[s[i + 1]])
            i += 2
        elif c == '"':
            return "".join(out), i + 1
        elif c == "\n":
            raise ParseError(f"line {lineno}: raw newline in label value")
        else:
            out.append(c)
            i += 1
    raise ParseError(f"line {lineno}: unterminated label value")


def parse_value(v, lineno):
    if v in ("NaN", "+Inf", "-Inf"):
        return float(v.replace("Inf", "inf").replace("NaN", "nan"))
    if not re.fullmatch(r"[-+]?(\d+\.?\d*([eE][-+]?\d+)?|\.\d+([eE][-+]?\d+)?)", v):
        raise ParseError(f"line {lineno}: bad value {v!r}")
    return float(v)


def parse_exposition(text):
    """Strict text format 0.0.4 parser: returns {family: {"type", "help", "samples"}}."""
    if not text.endswith("\n"):
        raise ParseError("exposition does not end with a newline")
    families, current, seen_samples = {}, None, set()
    for lineno, line in enumerate(text.split("\n")[:-1], 1):
        if line.startswith("#"):
            m = re.fullmatch(rf"# (HELP|TYPE) ({NAME}) (.*)", line)
            if not m:
                if re.match(r"# (HELP|TYPE)", line):
                    raise ParseError(f"line {lineno}: malformed {line!r}")
                continue
            kind, name, rest = m.groups()
            fam = families.setdefault(name, {"type": None, "help": None, "samples": []})
            if kind == "TYPE":
                if rest not in TYPES:
                    raise ParseError(f"line {lineno}: unknown type {rest!r}")
                if fam["type"] is not None or fam["samples"]:
                    raise ParseError(f"line {lineno}: TYPE for {name} repeated or after samples")
                fam["type"] = rest
            else:
                if fam["help"] is not None:
                    raise ParseError(f"line {lineno}: HELP for {name} repeated")
                k = 0
                while k < len(rest):
                    if rest[k] == "\\":
                        if rest[k + 1:k + 2] not in ("\\", "n"):
                            raise ParseError(f"line {lineno}: bad escape in HELP")
                        k += 1
                    k += 1
                fam["help"] = rest
            current = name
            continue
        if not line.strip():
            raise ParseError(f"line {lineno}: empty line")
        m = re.match(rf"({NAME})", line)
        if not m:
            raise ParseError(f"line {lineno}: no metric name in {line!r}")
        name, i, labels = m.group(1), m.end(), {}
        if i < len(line) and line[i] == "{":
            i += 1
            while True:
                lm = re.compile(rf"({LABEL})=\"").match(line, i)
                if not lm:
                    if line[i:i + 1] == "}":
                        i += 1
                        break
                    raise ParseError(f"line {lineno}: bad label at {line[i:]!r}")
                key = lm.group(1)
                if key in labels:
                    raise ParseError(f"line {lineno}: label {key} repeated")
                labels[key], i = parse_label_value(line, lm.end(), lineno)
                if line[i:i + 1] == ",":
                    i += 1
                elif line[i:i + 1] == "}":
                    i += 1
                    break
                else:
                    raise ParseError(f"line {lineno}: expected , or }} after label")
        rest = line[i:]
        if not rest.startswith(" "):
            raise ParseError(f"line {lineno}: expected a space before the value")
        parts = rest[1:].split(" ")
        if len(parts) not in (1, 2):
            raise ParseError(f"line {lineno}: trailing garbage {rest!r}")
        value = parse_value(parts[0], lineno)
        if len(parts) == 2 and not re.fullmatch(r"-?\d+", parts[1]):
            raise ParseError(f"line {lineno}: bad timestamp")
        if name != current or families[name]["type"] is None:
            raise ParseError(f"line {lineno}: sample {name} outside its family block")
        key = (name, tuple(sorted(labels.items())))
        if key in seen_samples:
            raise ParseError(f"line {lineno}: duplicate series {key}")
        seen_samples.add(key)
        families[name]["samples"].append((labels, value))
    for name, fam in families.items():
        if fam["type"] == "counter" and not name.endswith("_total"):
            raise ParseError(f"counter {name} does not end in _total")
        if not name.startswith("memwatch_"):
            raise ParseError(f"{name}: missing memwatch_ prefix")
    return families


def http(port, request, timeout=10):
    s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    s.sendall(request)
    data = b""
    while True:
        try:
            chunk = s.recv(65536)
        except ConnectionResetError:
            break
        if not chunk:
            break
        data += chunk
    s.close()
    head, _, body = data.partition(b"\r\n\r\n")
    return head.decode(), body


def test_parser_rejects_bad_text():
    bad = ["memwatch_x 1\n",  # no TYPE
           "# TYPE memwatch_x gauge\nmemwatch_x{a=\"\\q\"} 1\n",
           "# TYPE memwatch_x gauge\nmemwatch_x{a=\"b} 1\n",
           "# TYPE memwatch_x gauge\nmemwatch_x 1x\n",
           "# TYPE memwatch_x counter\nmemwatch_x 1\n",
           "# TYPE memwatch_x gauge\nmemwatch_x 1\nmemwatch_x 2\n",
           "# TYPE memwatch_x gauge\nmemwatch_x{1a=\"b\"} 1\n"]
    for t in bad:
        try:
            parse_exposition(t)
            check(False, f"parser accepted {t!r}")
        except ParseError:
            pass
    fams = parse_exposition('# HELP memwatch_y h \\\\ \\n\n# TYPE memwatch_y gauge\n'
                            'memwatch_y{a="q\\"\\\\\\n"} +Inf\n')
    check(fams["memwatch_y"]["samples"][0][0]["a"] == 'q"\\\n', "escapes decode")
    check(math.isinf(fams["memwatch_y"]["samples"][0][1]), "+Inf value")


def test_scrape():
    d = tmpdir()
    db, conf = os.path.join(d, "mw.db"), os.path.join(d, "mw.conf")
    port = free_port()
    with open(conf, "w") as f:
        f.write(f"listen = 127.0.0.1:{port}\nmetrics_top = 200\n")
    # A process whose comm needs escaping: quote, backslash.
    weird = os.path.join(d, 'we"ir\\d')
    shutil.copy(os.path.join(WORKLOADS, "flat"), weird)
    w = spawn([weird, "--for", "60"], stdout=subprocess.PIPE, text=True)
    w.stdout.readline()
    log = open(db + ".log", "ab")
    p = spawn([MEMWATCHD, "--foreground", "--config", conf, "--db", db, "--interval", "0.3"],
              stderr=log)
    log.close()
    wait_for_ticks(db, 3, p)

    # A slow client that never finishes its request must not stall ticks or scrapes.
    slow = socket.create_connection(("127.0.0.1", port))
    slow.sendall(b"GET /metr")
    # An oversized request is refused.
    head, _ = http(port, b"GET /metrics HTTP/1.0\r\nX: " + b"a" * 5000 + b"\r\n\r\n")
    check(head.startswith("HTTP/1.1 431"), f"oversized request refused: {head[:40]!r}")
    n = ticks(db)
    wait_for_ticks(db, n + 3, p)
    head, body = http(port, b"GET /metrics HTTP/1.0\r\n\r\n")
    check(head.startswith("HTTP/1.1 200"), f"200 OK: {head[:40]!r}")
    check("text/plain; version=0.0.4" in head, "content type of the text format")
    m = re.search(r"Content-Length: (\d+)", head)
    check(m and int(m.group(1)) == len(body), "Content-Length matches the body")
    text = body.decode("utf-8")
    fams = parse_exposition(text)
    for name in ("memwatch_memory_bytes", "memwatch_vmstat_total",
                 "memwatch_pressure_memory_ratio", "memwatch_process_rss_bytes",
                 "memwatch_process_rss_growth_bytes_per_second",
                 "memwatch_daemon_tick_duration_seconds", "memwatch_daemon_rss_bytes",
                 "memwatch_daemon_database_bytes", "memwatch_daemon_dropped_ticks_total",
                 "memwatch_daemon_cpu_seconds_total", "memwatch_daemon_ticks_total"):
        check(name in fams, f"family {name} present")
    mem = {l["field"]: v for l, v in fams["memwatch_memory_bytes"]["samples"]}
    with open("/proc/meminfo") as f:
        total_kb = int(next(l for l in f if l.startswith("MemTotal:")).split()[1])
    check(mem.get("mem_total") == total_kb * 1024, "MemTotal in bytes matches /proc/meminfo")
    procs = fams["memwatch_process_rss_bytes"]["samples"]
    mine = [l for l, v in procs if l["pid"] == str(p.pid)]
    check(mine and mine[0]["comm"] == "memwatchd", "memwatchd itself listed with its comm")
    weird_rows = [l for l, v in procs if l["pid"] == str(w.pid)]
    check(weird_rows and weird_rows[0]["comm"] == 'we"ir\\d',
          f"hostile comm escaped and round-trips: {weird_rows}")
    check(all(set(l) == {"pid", "comm", "service"} for l, _ in procs), "process labels")
    ticks_total = fams["memwatch_daemon_ticks_total"]["samples"][0][1]
    check(ticks_total >= n + 3, f"ticks went on while a client stalled ({ticks_total})")
    # A NUL byte does not hide the end of a request: answered at once, not after the timeout.
    t0 = time.monotonic()
    head, _ = http(port, b"GET /met\0rics HTTP/1.0\r\n\r\n", timeout=4)
    check(head.startswith("HTTP/1.1 400") and time.monotonic() - t0 < 2,
          f"a request with a NUL gets a 400 at once: {head[:30]!r}")
    # A request sscanf cannot parse, after a HEAD, is a full 400 (body as long as it says).
    http(port, b"HEAD /metrics HTTP/1.0\r\n\r\n")
    head, body = http(port, b"\r\n\r\n")
    m = re.search(r"Content-Length: (\d+)", head)
    check(head.startswith("HTTP/1.1 400") and m and int(m.group(1)) == len(body) > 0,
          f"a blank request after a HEAD: 400 with its body ({head!r}, {body!r})")
    for req, code in ((b"POST /metrics HTTP/1.0\r\n\r\n", "405"),
                      (b"GET /nope HTTP/1.0\r\n\r\n", "404"),
                      (b"garbage\r\n\r\n", "400")):
        head, _ = http(port, req)
        check(head.startswith(f"HTTP/1.1 {code}"), f"{req[:12]!r} -> {code}: {head[:30]!r}")
    promtool = shutil.which("promtool")
    if promtool:
        r = subprocess.run([promtool, "check", "metrics"], input=text, capture_output=True,
                           text=True)
        # promtool lints too (e.g. "counter metrics should have _total"); errors fail it.
        check(r.returncode == 0, f"promtool check metrics: {r.stdout} {r.stderr}")
    else:
        print("promtool not installed (Debian package prometheus): strict parser only")
    slow.close()
    stop(p)
    stop(w)


def test_listener_off_by_default():
    d = tmpdir()
    db = os.path.join(d, "mw.db")
    log = open(db + ".log", "ab")
    p = spawn([MEMWATCHD, "--foreground", "--config", "/dev/null", "--db", db, "--interval",
               "0.3"], stderr=log)
    log.close()
    wait_for_ticks(db, 2, p)
    listening = subprocess.run(["ss", "-ltnp"], capture_output=True, text=True).stdout \
        if shutil.which("ss") else ""
    check(f"pid={p.pid}," not in listening, "no listening socket without `listen`")
    stop(p)


if __name__ == "__main__":
    run([test_parser_rejects_bad_text, test_scrape, test_listener_off_by_default])
