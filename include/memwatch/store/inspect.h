/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Raw SQL access for tests and diagnostics: build fixtures the typed
 * writers cannot (foreign files, other modules' tables, synthetic history)
 * and check stored rows independently of the readers under test. The
 * product's own code reads and writes through the typed store functions;
 * this is the one door for SQL text from outside lib/store/.
 *
 * Values are bound as parameters, never formatted into the SQL: args[i]
 * is ?(i+1) in every statement that has that many parameters. A failing
 * statement is logged (warning) with SQLite's message, since the caller
 * has no other way to see it, and returned as a negative errno.
 */
#ifndef MEMWATCH_INSPECT_H
#define MEMWATCH_INSPECT_H

#include <stddef.h>
#include <stdint.h>

struct mw_store;

/*
 * The first column of the first row of one statement, on its own
 * read-only connection to db_path (it sees what writers committed).
 * NULL reads as MW_UNKNOWN, like the store's readers; -ENOENT without a
 * row, -EINVAL for more than one statement.
 */
int mw_inspect_i64(const char *db_path, const char *sql, int64_t *out);

/* Run every statement of sql on a read-write connection, creating the file when missing. */
int mw_inspect_exec(const char *db_path, const char *sql);

/* The same on an open store's connection: inside its transaction when one is open. */
int mw_inspect_store_i64(struct mw_store *s, const char *sql, const int64_t *args, size_t nargs,
                         int64_t *out);
int mw_inspect_store_exec(struct mw_store *s, const char *sql, const int64_t *args, size_t nargs);

#endif
