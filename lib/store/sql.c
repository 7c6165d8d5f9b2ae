/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "sql.h"
#include "memwatch/base/log.h"
#include "memwatch/base/util.h"

#include <errno.h>
#include <stdio.h>

int mw_sql_err(sqlite3 *db, int rc, const char *what)
{
	mw_debug("sqlite: %s: %s", what ? what : "?", db ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
	switch (rc & 0xff) {
	case SQLITE_BUSY:
	case SQLITE_LOCKED:
		return -EBUSY;
	case SQLITE_FULL:
		return -ENOSPC;
	case SQLITE_READONLY:
	case SQLITE_PERM:
	case SQLITE_AUTH:
		return -EACCES;
	case SQLITE_NOMEM:
		return -ENOMEM;
	case SQLITE_CORRUPT:
	case SQLITE_NOTADB:
		return -ENOTRECOVERABLE;
	case SQLITE_CANTOPEN:
		return -ENOENT;
	default:
		return -EIO;
	}
}

int64_t mw_sql_i64(sqlite3_stmt *st, int c)
{
	return sqlite3_column_type(st, c) == SQLITE_NULL ? MW_UNKNOWN : sqlite3_column_int64(st, c);
}

void mw_sql_text(sqlite3_stmt *st, int c, char *buf, size_t cap)
{
	const unsigned char *t = sqlite3_column_text(st, c);

	if (cap)
		snprintf(buf, cap, "%s", t ? (const char *)t : "");
}

bool mw_sql_has_column(sqlite3 *db, const char *table, const char *column)
{
	sqlite3_stmt *st = NULL;
	bool found = false;

	if (sqlite3_prepare_v2(db, "SELECT 1 FROM pragma_table_info(?) WHERE name = ?", -1, &st,
	                       NULL) != SQLITE_OK)
		return false;
	sqlite3_bind_text(st, 1, table, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, column, -1, SQLITE_STATIC);
	found = sqlite3_step(st) == SQLITE_ROW;
	sqlite3_finalize(st);
	return found;
}
