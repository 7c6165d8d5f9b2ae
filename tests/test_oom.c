/* SPDX-License-Identifier: GPL-2.0-or-later */
/* OOM badness ranking on built process sets, and memory cgroup limits from recorded v1/v2 trees. */
#include "check.h"
#include "memwatch/oom.h"
#include "memwatch/util.h"

#include <errno.h>
#include <math.h>
#include <string.h>
#include <unistd.h>

#ifndef SRCDIR
#define SRCDIR "."
#endif

static void proc(struct mw_proc_sample *p, pid_t pid, const char *comm, int64_t rss, int64_t swap,
                 int64_t pte, int64_t adj)
{
	memset(p, 0, sizeof(*p));
	p->pid = pid;
	snprintf(p->comm, sizeof(p->comm), "%s", comm);
	for (int i = 0; i < MW_PM_COUNT; i++)
		p->m[i] = 0;
	p->m[MW_PM_rss] = rss;
	p->m[MW_PM_swap] = swap;
	p->m[MW_PM_pte] = pte;
	p->m[MW_PM_oom_adj] = adj;
	p->cgroup = NULL;
}

static void test_ranking(void)
{
	struct mw_proc_sample v[6];
	struct mw_proc_set set = {.v = v, .n = 6, .cap = 6};
	struct mw_sys_sample now;
	struct mw_oom_forecast f;
	int64_t page = sysconf(_SC_PAGESIZE);

	for (int i = 0; i < MW_MI_COUNT; i++)
		now.mem[i] = MW_UNKNOWN;
	now.mem[MW_MI_mem_total] = 1000 * 1000 * page; /* 1e6 pages */
	now.mem[MW_MI_swap_total] = 0;
	now.mem[MW_MI_mem_available] = 500 * 1000 * page;
	proc(&v[0], 1, "init", 900000 * page, 0, 0, 0); /* never chosen */
	proc(&v[1], 10, "big", 300000 * page, 0, 0, 0);
	proc(&v[2], 11, "swapper", 100000 * page, 150000 * page, 100 * page, 0);
	proc(&v[3], 12, "biased", 10000 * page, 0, 0, 500);    /* + 500000 pages */
	proc(&v[4], 13, "sshd", 5000 * page, 0, 0, 0);         /* killable: protect */
	proc(&v[5], 14, "exempt", 800000 * page, 0, 0, -1000); /* never chosen */
	CHECK_EQ_I64(mw_oom_forecast(&set, &now, NULL, &f), 0);
	CHECK_EQ_I64(f.totalpages, 1000000);
	CHECK_EQ_I64(f.n, 4);
	CHECK_EQ_I64(f.exempt, 2);
	CHECK_EQ_I64(f.v[0].pid, 12);
	CHECK_EQ_I64(f.v[1].pid, 10);
	CHECK_EQ_I64(f.v[2].pid, 11);
	CHECK_EQ_I64(f.v[3].pid, 13);
	CHECK_NEAR(f.v[2].points, 250100, 0.5);
	/* (1000 + 510000 * 1000 / 1e6) * 2 / 3 = 1006 */
	CHECK_EQ_I64(f.v[0].score, 1006);
	CHECK_EQ_I64(f.v[1].score, 866);
	CHECK_EQ_I64(f.nprotect, 1);
	CHECK_EQ_STR(f.protect[0].comm, "sshd");
	CHECK(isnan(f.seconds_to_oom)); /* no history: no forecast of exhaustion */
	CHECK_EQ_I64(f.victim_at_oom, -1);
	mw_oom_forecast_release(&f);
	now.mem[MW_MI_mem_total] = 0;
	CHECK_EQ_I64(mw_oom_forecast(&set, &now, NULL, &f), -EINVAL);
}

static void test_memcg(void)
{
	char v1[4096], v2[4096];
	int64_t lim, use;

	snprintf(v1, sizeof(v1), "%s/tests/data/root-6.18", SRCDIR);
	snprintf(v2, sizeof(v2), "%s/tests/data/root-numa", SRCDIR);
	CHECK_EQ_I64(mw_memcg_read(v1, "5:devices:/,4:memory:/app,0::/", &lim, &use), 0);
	CHECK_EQ_I64(lim, 268435456);
	CHECK_EQ_I64(use, 1048576);
	CHECK_EQ_I64(mw_memcg_read(v1, "9:name=systemd:/\n4:memory:/app\n0::/\n", &lim, &use), 0);
	CHECK_EQ_I64(lim, 268435456);
	CHECK_EQ_I64(mw_memcg_read(v1, "4:memory:/unlimited", &lim, &use), -ENOENT);
	CHECK_EQ_I64(lim, MW_UNKNOWN);
	CHECK_EQ_I64(mw_memcg_read(v1, "4:memory:/missing", &lim, &use), -ENOENT);
	CHECK(mw_memcg_read(v1, "4:memory:/../../etc", &lim, &use) < 0);
	CHECK_EQ_I64(mw_memcg_read(v2, "0::/svc", &lim, &use), 0);
	CHECK_EQ_I64(lim, 536870912);
	CHECK_EQ_I64(use, 4096);
	CHECK_EQ_I64(mw_memcg_read(v2, "0::/free", &lim, &use), -ENOENT);
	CHECK_EQ_I64(mw_memcg_read(v2, "", &lim, &use), -ENOENT);
	CHECK_EQ_I64(mw_memcg_read(v2, "garbage", &lim, &use), -ENOENT);
	CHECK_EQ_I64(mw_memcg_read(v2, NULL, &lim, &use), -ENOENT);
}

int main(void)
{
	test_ranking();
	test_memcg();
	return check_done();
}
