/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The store's private SQLite helpers: the one SQLite-to-errno mapping and
 * the one "NULL column means unknown" rule. Only lib/store/ includes this.
 */
#ifndef MW_STORE_SQL_H
#define MW_STORE_SQL_H

#include <sqlite3.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct mw_store;

/* The connection of a store, for the store's own modules (nobody else sees SQLite). */
sqlite3 *mw_store_db(struct mw_store *s);

/* rc as a negative errno; logs db's message (or rc's) at debug with what. */
int mw_sql_err(sqlite3 *db, int rc, const char *what);

/* Whether table has column (pragma_table_info). */
bool mw_sql_has_column(sqlite3 *db, const char *table, const char *column);

/* Column c as an integer, MW_UNKNOWN when it is NULL. */
int64_t mw_sql_i64(sqlite3_stmt *st, int c);

/* Column c as text into buf ("" when NULL). */
void mw_sql_text(sqlite3_stmt *st, int c, char *buf, size_t cap);

#endif
