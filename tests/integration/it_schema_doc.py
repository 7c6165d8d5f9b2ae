#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""The schema is a public interface: every table and column that memwatchd
creates is documented in docs/schema*.md."""
import glob
import os
import re

from mwtest import SRCDIR, check, db_query, run, start_daemon, stop, tmpdir


def documented():
    """{table: set(columns)} from '## `table`' headings and '| `column`[, `column`] |' rows."""
    docs = {}
    for path in sorted(glob.glob(os.path.join(SRCDIR, "docs", "schema*.md"))):
        table = None
        for line in open(path, encoding="utf-8"):
            m = re.match(r"^#+\s+`([a-z_0-9]+)`", line)
            if m:
                table = m.group(1)
                docs.setdefault(table, set())
                continue
            # First cell of a table row: one or more `column` names, comma-separated.
            m = re.match(r"^\|([^|]*)\|", line)
            if m and table:
                docs[table].update(re.findall(r"`([a-z_0-9]+|<[^`>]+>[a-z_0-9/_]*)`", m.group(1)))
    return docs


def matches(docs_cols, col):
    """A column is documented by name, or by a pattern row such as `<metric>_last` or
    `<meminfo column>_min/_max/_last` (one row for a family of generated columns)."""
    if col in docs_cols:
        return True
    for token in docs_cols:
        if "<" not in token:
            continue
        head, _, tail = token.partition(">")
        alts = [a.lstrip("_") for a in tail.split("/") if a.strip("_")]
        pattern = r"[a-z_0-9]+" + (r"_(" + "|".join(map(re.escape, alts)) + r")" if alts else "")
        if re.fullmatch(pattern, col):
            return True
    return False


def test_every_column_documented():
    d = tmpdir()
    db = os.path.join(d, "mw.db")
    daemon = start_daemon(db, interval=0.5, wait_ticks=2)
    stop(daemon)
    docs = documented()
    tables = [r[0] for r in db_query(db, "SELECT name FROM sqlite_master WHERE type = 'table'"
                                         " AND name NOT LIKE 'sqlite_%'")]
    check(len(tables) >= 7, f"tables found: {tables}")
    for t in tables:
        if not check(t in docs, f"table {t} documented in docs/schema*.md"):
            continue
        for (col,) in db_query(db, f"SELECT name FROM pragma_table_info('{t}')"):
            check(matches(docs[t], col), f"column {t}.{col} documented")


if __name__ == "__main__":
    run([test_every_column_documented])
