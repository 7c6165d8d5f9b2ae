/* SPDX-License-Identifier: GPL-2.0-or-later */
/* /proc/slabinfo parser and slab aliases: recorded tree, live (root only), broken input. */
#include "check.h"
#include "memwatch/collect/slab.h"
#include "memwatch/base/util.h"

#include <errno.h>
#include <unistd.h>

#ifndef SRCDIR
#define SRCDIR "."
#endif

static void test_recorded(void)
{
	struct mw_slab_set s = {0};
	const struct mw_slab_cache *c;
	char root[4096], aliases[256];

	snprintf(root, sizeof(root), "%s/tests/data/root-6.18", SRCDIR);
	CHECK_EQ_I64(mw_slab_read(root, &s), 0);
	CHECK(s.n > 100);
	c = mw_slab_find(&s, "dentry");
	CHECK(c != NULL);
	if (c) {
		CHECK_EQ_I64(c->objsize, 192);
		CHECK(c->num_objs >= c->active_objs);
		CHECK_EQ_I64(c->bytes, c->num_slabs * c->pagesperslab * sysconf(_SC_PAGESIZE));
	}
	CHECK(mw_slab_find(&s, "no-such-cache") == NULL);
	/* Merged caches: the sysfs view names who shares signal_cache's slab. */
	CHECK_EQ_I64(mw_slab_aliases(root, "signal_cache", aliases, sizeof(aliases)), 0);
	CHECK_EQ_STR(aliases, "UNIX,UNIX-STREAM");
	CHECK_EQ_I64(mw_slab_aliases(root, "sock_inode_cache", aliases, sizeof(aliases)), 0);
	CHECK_EQ_STR(aliases, "");
	mw_slab_set_release(&s);
}

static void test_live(void)
{
	struct mw_slab_set s = {0};
	int r = mw_slab_read("", &s);

	if (geteuid() != 0) {
		CHECK_EQ_I64(r, -EACCES);
	} else {
		CHECK_EQ_I64(r, 0);
		CHECK(mw_slab_find(&s, "kmalloc-64") != NULL || mw_slab_find(&s, "dentry") != NULL);
	}
	mw_slab_set_release(&s);
}

static void test_odd(void)
{
	struct mw_slab_set s = {0};
	size_t skipped = 0;

	/* Wrong version and no header are refused, not misread. */
	CHECK_EQ_I64(mw_slab_parse("slabinfo - version: 1.1\n", 4096, &s, NULL), -EPROTO);
	CHECK_EQ_I64(mw_slab_parse("", 4096, &s, NULL), -EPROTO);
	CHECK_EQ_I64(mw_slab_parse("dentry 1 2 3 4 5 : tunables 0 0 0 : slabdata 1 1 0\n", 4096, &s,
	                           NULL),
	             -EPROTO);
	/* Short, garbage, negative and overflowing lines are skipped; the good ones kept. */
	CHECK_EQ_I64(
	        mw_slab_parse(
	                "slabinfo - version: 2.1\n"
	                "# name <active_objs> ...\n"
	                "good 10 20 64 64 1 : tunables 0 0 0 : slabdata 1 1 0\n"
	                "short 1 2 3\n"
	                "neg -1 2 64 64 1 : tunables 0 0 0 : slabdata 1 1 0\n"
	                "zero 1 2 0 64 1 : tunables 0 0 0 : slabdata 1 1 0\n"
	                "more 3 2 64 64 1 : tunables 0 0 0 : slabdata 1 1 0\n"
	                "huge 1 9223372036854775807 64 64 1 : tunables 0 0 0 : slabdata 1 1 0\n"
	                "a-very-long-cache-name-that-goes-on-and-on-beyond-sixty-four-chars-x 1 1 "
	                "8 8 1"
	                " : tunables 0 0 0 : slabdata 1 1 0\n"
	                "\n"
	                "last 4 4 1024 4 1 : tunables 0 0 0 : slabdata 1 2 0",
	                4096, &s, &skipped),
	        0);
	CHECK_EQ_I64(s.n, 2);
	CHECK_EQ_I64(skipped, 6);
	CHECK_EQ_STR(s.v[0].name, "good");
	CHECK_EQ_I64(s.v[0].bytes, 4096);
	CHECK_EQ_STR(s.v[1].name, "last");
	CHECK_EQ_I64(s.v[1].bytes, 8192);
	mw_slab_set_release(&s);
}

int main(void)
{
	test_recorded();
	test_live();
	test_odd();
	return check_done();
}
