/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "memwatch/store/inspect.h"
#include "memwatch/base/log.h"
#include "memwatch/store/store.h"
#include "sql.h"

#include <errno.h>
#include <stdbool.h>
#include <string.h>

static int fail(sqlite3 *db, int rc, const char *sql)
{
	mw_warn("inspect: %s: %s", db ? sqlite3_errmsg(db) : sqlite3_errstr(rc), sql);
	return mw_sql_err(db, rc, "inspect");
}

static void bind_args(sqlite3_stmt *st, const int64_t *args, size_t nargs)
{
	size_t n = (size_t)sqlite3_bind_parameter_count(st);

	for (size_t i = 0; i < nargs && i < n; i++)
		sqlite3_bind_int64(st, (int)i + 1, args[i]);
}

static bool blank(const char *p)
{
	return !p || p[strspn(p, " \t\r\n;")] == '\0';
}

/* Whether text holds a statement (comments and whitespace do not count). */
static bool has_statement(sqlite3 *db, const char *text)
{
	sqlite3_stmt *st = NULL;
	bool any;

	if (blank(text))
		return false;
	any = sqlite3_prepare_v2(db, text, -1, &st, NULL) != SQLITE_OK || st;
	sqlite3_finalize(st);
	return any;
}

static int db_i64(sqlite3 *db, const char *sql, const int64_t *args, size_t nargs, int64_t *out)
{
	sqlite3_stmt *st = NULL;
	const char *tail = NULL;
	int rc, r = 0;

	rc = sqlite3_prepare_v2(db, sql, -1, &st, &tail);
	if (rc != SQLITE_OK) {
		r = fail(db, rc, sql);
		goto out;
	}
	/* A second statement would silently not run. */
	if (!st || has_statement(db, tail)) {
		mw_warn("inspect: not one statement: %s", sql);
		r = -EINVAL;
		goto out;
	}
	bind_args(st, args, nargs);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		*out = mw_sql_i64(st, 0);
	else if (rc == SQLITE_DONE)
		r = -ENOENT;
	else
		r = fail(db, rc, sql);
out:
	sqlite3_finalize(st);
	return r;
}

static int db_exec(sqlite3 *db, const char *sql, const int64_t *args, size_t nargs)
{
	const char *p = sql;
	int r = 0;

	while (r == 0 && !blank(p)) {
		sqlite3_stmt *st = NULL;
		const char *tail = NULL;
		int rc = sqlite3_prepare_v2(db, p, -1, &st, &tail);

		if (rc != SQLITE_OK) {
			r = fail(db, rc, p);
			break;
		}
		if (!st) /* a comment only */
			break;
		bind_args(st, args, nargs);
		while ((rc = sqlite3_step(st)) == SQLITE_ROW)
			;
		if (rc != SQLITE_DONE)
			r = fail(db, rc, p);
		sqlite3_finalize(st);
		p = tail;
	}
	return r;
}

static int open_db(const char *path, int flags, sqlite3 **db)
{
	int rc = sqlite3_open_v2(path, db, flags, NULL);

	if (rc == SQLITE_OK)
		return 0;
	mw_warn("inspect: %s: %s", path, *db ? sqlite3_errmsg(*db) : sqlite3_errstr(rc));
	return mw_sql_err(*db, rc, "inspect: open");
}

int mw_inspect_i64(const char *db_path, const char *sql, int64_t *out)
{
	sqlite3 *db = NULL;
	int r = open_db(db_path, SQLITE_OPEN_READONLY, &db);

	if (r == 0)
		r = db_i64(db, sql, NULL, 0, out);
	sqlite3_close(db);
	return r;
}

int mw_inspect_exec(const char *db_path, const char *sql)
{
	sqlite3 *db = NULL;
	int r = open_db(db_path, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, &db);

	if (r == 0)
		r = db_exec(db, sql, NULL, 0);
	sqlite3_close(db);
	return r;
}

int mw_inspect_store_i64(struct mw_store *s, const char *sql, const int64_t *args, size_t nargs,
                         int64_t *out)
{
	return db_i64(mw_store_db(s), sql, args, nargs, out);
}

int mw_inspect_store_exec(struct mw_store *s, const char *sql, const int64_t *args, size_t nargs)
{
	return db_exec(mw_store_db(s), sql, args, nargs);
}
