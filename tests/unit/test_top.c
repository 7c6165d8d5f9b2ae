/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * memwatch top's pure parts: cell text ("-" for unknown, never 0), the
 * ordering (unknown last, pid tiebreak, so rows do not flicker), filters,
 * grouping by service, sparklines in UTF-8 and ASCII.
 */
#include "check.h"

#include "top.h"

#include "memwatch/base/util.h"

#include <math.h>

static void row_init(struct top_row *r, pid_t pid, const char *comm, double growth, int64_t rss)
{
	memset(r, 0, sizeof(*r));
	r->pid = pid;
	snprintf(r->comm, sizeof(r->comm), "%s", comm);
	snprintf(r->user, sizeof(r->user), "root");
	for (int i = 0; i < MW_PM_COUNT; i++)
		r->m[i] = MW_UNKNOWN;
	for (int i = 0; i < TOP_REG_COUNT; i++)
		r->reg[i] = MW_UNKNOWN;
	r->m[MW_PM_rss] = rss;
	r->growth = growth;
	r->minflt_s = r->majflt_s = NAN;
}

static void test_cells(void)
{
	struct top_row r;
	char buf[256];

	row_init(&r, 42, "x", NAN, 3 << 20);
	top_cell(&r, TC_GROWTH, true, buf, sizeof(buf));
	CHECK_EQ_STR(buf, "-");
	top_cell(&r, TC_HEAP, true, buf, sizeof(buf));
	CHECK_EQ_STR(buf, "-");
	top_cell(&r, TC_FDS, true, buf, sizeof(buf));
	CHECK_EQ_STR(buf, "-");
	top_cell(&r, TC_HYP, true, buf, sizeof(buf));
	CHECK_EQ_STR(buf, "-");
	r.tag_known = true;
	top_cell(&r, TC_HYP, true, buf, sizeof(buf));
	CHECK_EQ_STR(buf, "");
	top_cell(&r, TC_RSS, true, buf, sizeof(buf));
	CHECK_EQ_STR(buf, "3.00M");
	r.growth = 1.5 * 1048576;
	top_cell(&r, TC_GROWTH, true, buf, sizeof(buf));
	CHECK_EQ_STR(buf, "+1.50M");
	r.growth = 0;
	top_cell(&r, TC_GROWTH, true, buf, sizeof(buf));
	CHECK_EQ_STR(buf, "0");
	r.m[MW_PM_fds] = 0;
	top_cell(&r, TC_FDS, true, buf, sizeof(buf));
	CHECK_EQ_STR(buf, "0");
}

static void test_command_escaped(void)
{
	struct top_row r;
	char buf[256];

	row_init(&r, 1, "\x1b[2J\n\xff", 0, 0);
	r.cmdline = "a\tb";
	top_cell(&r, TC_COMMAND, true, buf, sizeof(buf));
	CHECK_EQ_STR(buf, "\\e[2J\\n\\xff: a\\tb");
	r.cmdline = NULL;
	top_cell(&r, TC_COMMAND, false, buf, sizeof(buf));
	CHECK_EQ_STR(buf, "\\e[2J\\n\\xff");
}

static void test_sort(void)
{
	struct top_row v[5];

	row_init(&v[0], 30, "c", NAN, 1);
	row_init(&v[1], 20, "b", 100, 5);
	row_init(&v[2], 10, "a", 100, 5);
	row_init(&v[3], 40, "d", -5, MW_UNKNOWN);
	row_init(&v[4], 50, "e", 900, 2);
	top_sort(v, 5, TC_GROWTH, false);
	CHECK_EQ_I64(v[0].pid, 50);
	CHECK_EQ_I64(v[1].pid, 10); /* equal growth: pid order */
	CHECK_EQ_I64(v[2].pid, 20);
	CHECK_EQ_I64(v[3].pid, 40);
	CHECK_EQ_I64(v[4].pid, 30); /* unknown last */
	top_sort(v, 5, TC_GROWTH, true);
	CHECK_EQ_I64(v[0].pid, 40);
	CHECK_EQ_I64(v[4].pid, 30); /* unknown last in either direction */
	top_sort(v, 5, TC_RSS, false);
	CHECK_EQ_I64(v[0].pid, 10);
	CHECK_EQ_I64(v[4].pid, 40);
	top_sort(v, 5, TC_PID, false);
	for (int i = 0; i < 5; i++)
		CHECK_EQ_I64(v[i].pid, (i + 1) * 10);
	top_sort(v, 5, TC_COMMAND, true);
	CHECK_EQ_STR(v[0].comm, "e");
	CHECK_EQ_I64(top_col_by_key("growth"), TC_GROWTH);
	CHECK_EQ_I64(top_col_by_key("GROW/m"), TC_GROWTH);
	CHECK_EQ_I64(top_col_by_key("nope"), -1);
}

static void test_filter_group(void)
{
	struct top_row v[3], *g = NULL;
	size_t ng = 0;

	row_init(&v[0], 1, "nginx", 10, 100);
	row_init(&v[1], 2, "nginx", NAN, 50);
	row_init(&v[2], 3, "sshd", 1, 7);
	v[0].cmdline = "nginx: worker";
	snprintf(v[0].group, sizeof(v[0].group), "nginx.service");
	snprintf(v[1].group, sizeof(v[1].group), "nginx.service");
	snprintf(v[2].group, sizeof(v[2].group), "ssh.service");
	CHECK(top_row_matches(&v[0], "WORKER"));
	CHECK(top_row_matches(&v[2], "ROOT"));
	CHECK(!top_row_matches(&v[2], "nginx"));
	CHECK(top_row_matches(&v[2], ""));
	CHECK_EQ_I64(top_group(v, 3, &g, &ng), 0);
	CHECK_EQ_I64(ng, 2);
	CHECK(g[0].is_group && g[0].members == 2);
	CHECK_EQ_I64(g[0].m[MW_PM_rss], 150);
	CHECK(g[0].growth == 10); /* unknown members add nothing */
	CHECK_EQ_STR(g[1].group, "ssh.service");
	free(g);
}

static void test_sparkline(void)
{
	double v[4] = {1, 2, NAN, 4};
	char buf[128];

	top_sparkline(v, 4, 12, true, buf, sizeof(buf));
	CHECK_EQ_STR(buf, "\u2581\u2583 \u2588");
	top_sparkline(v, 4, 12, false, buf, sizeof(buf));
	CHECK_EQ_STR(buf, "_- @");
	/* The newest points only, scaled over what is shown: one value is the floor. */
	top_sparkline(v, 4, 2, false, buf, sizeof(buf));
	CHECK_EQ_STR(buf, " _");
	top_sparkline(v, 0, 12, true, buf, sizeof(buf));
	CHECK_EQ_STR(buf, "");
}

int main(void)
{
	test_cells();
	test_command_escaped();
	test_sort();
	test_filter_group();
	test_sparkline();
	return check_done();
}
