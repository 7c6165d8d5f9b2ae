/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The inspection door other tests build fixtures and check rows through:
 * by path and on an open store, parameters, NULL as unknown, and the
 * errors a fixture with a typo or a second statement must give.
 */
#include "check.h"
#include "memwatch/store/inspect.h"
#include "memwatch/store/store.h"
#include "memwatch/base/util.h"

#include <errno.h>
#include <stdlib.h>
#include <unistd.h>

static char dir[] = "/tmp/mw-test-inspect-XXXXXX";

static void test_path(const char *p)
{
	int64_t v = 0;

	CHECK_EQ_I64(mw_inspect_i64(p, "SELECT 1", &v), -ENOENT); /* no file yet */
	CHECK_EQ_I64(mw_inspect_exec(p, "CREATE TABLE t(x); INSERT INTO t VALUES(1), (2);"
	                                " -- a comment at the end"),
	             0);
	CHECK_EQ_I64(mw_inspect_i64(p, "SELECT sum(x) FROM t", &v), 0);
	CHECK_EQ_I64(v, 3);
	CHECK_EQ_I64(mw_inspect_i64(p, "SELECT max(x) FROM t; -- only one", &v), 0);
	CHECK_EQ_I64(v, 2);
	CHECK_EQ_I64(mw_inspect_i64(p, "SELECT NULL", &v), 0);
	CHECK_EQ_I64(v, MW_UNKNOWN);
	v = 42;
	CHECK_EQ_I64(mw_inspect_i64(p, "SELECT x FROM t WHERE x > 5", &v), -ENOENT);
	CHECK_EQ_I64(v, 42);
	CHECK_EQ_I64(mw_inspect_i64(p, "SELECT 1; SELECT 2", &v), -EINVAL);
	CHECK(mw_inspect_i64(p, "SELECT nosuch FROM t", &v) < 0);
	/* Read-only: the statement runs and is refused. */
	CHECK_EQ_I64(mw_inspect_i64(p, "INSERT INTO t VALUES(3) RETURNING x", &v), -EACCES);
	CHECK(mw_inspect_exec(p, "INSERT INTO t VALUES(4); INSERT INTO nosuch VALUES(5)") < 0);
	/* Statements before the failing one ran. */
	CHECK_EQ_I64(mw_inspect_i64(p, "SELECT count(*) FROM t", &v), 0);
	CHECK_EQ_I64(v, 3);
}

static void test_store(const char *p)
{
	static const int64_t args[] = {7, 8};
	struct mw_store *st = NULL;
	int64_t v = 0;

	CHECK_EQ_I64(mw_store_open_writer(p, NULL, &st, NULL), 0);
	if (!st)
		return;
	/* ?1 and ?2 in each statement that has them. */
	CHECK_EQ_I64(mw_inspect_store_exec(st,
	                                   "CREATE TABLE u(a, b); INSERT INTO u VALUES(?1, ?2);"
	                                   " INSERT INTO u VALUES(?2, NULL)",
	                                   args, 2),
	             0);
	CHECK_EQ_I64(mw_inspect_store_i64(st, "SELECT sum(a) * 100 + sum(b) FROM u", NULL, 0, &v),
	             0);
	CHECK_EQ_I64(v, 1508);
	CHECK_EQ_I64(
	        mw_inspect_store_i64(st, "SELECT count(*) FROM u WHERE a = ?", &args[1], 1, &v), 0);
	CHECK_EQ_I64(v, 1);
	CHECK_EQ_I64(mw_inspect_store_i64(st, "SELECT b FROM u WHERE a = ?", &args[1], 1, &v), 0);
	CHECK_EQ_I64(v, MW_UNKNOWN);
	/* The store's own tables are there to look at. */
	CHECK_EQ_I64(mw_inspect_store_i64(st, "SELECT count(*) FROM ticks", NULL, 0, &v), 0);
	CHECK_EQ_I64(v, 0);
	mw_store_close(st);
	CHECK_EQ_I64(mw_inspect_i64(p, "SELECT count(*) FROM u", &v), 0);
	CHECK_EQ_I64(v, 2);
}

int main(void)
{
	char a[300], b[300], extra[320];

	if (!mkdtemp(dir))
		return 1;
	snprintf(a, sizeof(a), "%s/plain.db", dir);
	snprintf(b, sizeof(b), "%s/store.db", dir);
	test_path(a);
	test_store(b);
	unlink(a);
	unlink(b);
	snprintf(extra, sizeof(extra), "%s-wal", b);
	unlink(extra);
	snprintf(extra, sizeof(extra), "%s-shm", b);
	unlink(extra);
	rmdir(dir);
	return check_done();
}
