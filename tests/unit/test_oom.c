/* SPDX-License-Identifier: GPL-2.0-or-later */
/* OOM badness ranking on built process sets, and memory cgroup limits from recorded v1/v2 trees. */
#include "check.h"
#include "memwatch/analyse/oom.h"
#include "memwatch/collect/kmsg.h"
#include "memwatch/store/store.h"
#include "memwatch/base/util.h"

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
	p->cmdline = NULL;
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

/*
 * MemAvailable falling 2 GiB over 10 minutes forecasts exhaustion; the
 * same fall followed by the memory coming back (a cache dropped) does not
 * (issue 15 item 6: report --system said "reaches 0 in 54m" a minute
 * after 2.4 GB were freed).
 */
static void test_forecast_recovery(void)
{
	enum { N = 120 };
	static int64_t t[N + 2];
	static struct mw_sys_sample sys[N + 2];
	struct mw_sysview view = {.t_ms = t, .sys = sys};
	struct mw_proc_set set = {0};
	struct mw_oom_forecast f;
	const int64_t GiB = 1 << 30;

	for (size_t i = 0; i < N + 2; i++) {
		for (int k = 0; k < MW_MI_COUNT; k++)
			sys[i].mem[k] = MW_UNKNOWN;
		t[i] = 1700000000000 + (int64_t)i * 5000;
		sys[i].mem[MW_MI_mem_total] = 8 * GiB;
		sys[i].mem[MW_MI_swap_total] = 0;
		sys[i].mem[MW_MI_mem_available] = 4 * GiB - (int64_t)i * (2 * GiB / N);
	}
	view.n = N;
	CHECK_EQ_I64(mw_oom_forecast(&set, &sys[N - 1], &view, &f), 0);
	CHECK(isfinite(f.seconds_to_oom) && f.seconds_to_oom > 0);
	mw_oom_forecast_release(&f);
	/* Two ticks later 2.5 GiB are back. */
	sys[N].mem[MW_MI_mem_available] = sys[N + 1].mem[MW_MI_mem_available] = 4 * GiB + GiB / 2;
	view.n = N + 2;
	CHECK_EQ_I64(mw_oom_forecast(&set, &sys[N + 1], &view, &f), 0);
	CHECK(isnan(f.seconds_to_oom));
	mw_oom_forecast_release(&f);
}

#define KILL_LINE                                                                                  \
	"Killed process 501 (grower) total-vm:195312kB, anon-rss:114688kB, file-rss:4kB,"          \
	" shmem-rss:0kB, UID:0 pgtables:8kB oom_score_adj:0"

/* The kernel log's kill lines; any other message, or a line cut short, is not one. */
static void test_kmsg_parse(void)
{
	struct mw_kmsg_kills kl = {0};

	mw_kmsg_parse_oom_kill("Out of memory: " KILL_LINE, &kl);
	mw_kmsg_parse_oom_kill("oom-kill:constraint=CONSTRAINT_NONE,task=grower,pid=501", &kl);
	mw_kmsg_parse_oom_kill("Killed process 9 (x) total-vm:1kB", &kl);
	CHECK_EQ_I64(kl.n, 1);
	CHECK_EQ_I64(kl.v[0].pid, 501);
	CHECK_EQ_STR(kl.v[0].comm, "grower");
	CHECK_EQ_I64(kl.v[0].total_vm, 195312);
	CHECK_EQ_I64(kl.v[0].anon, 114688);
	CHECK_EQ_I64(kl.v[0].file, 4);
	CHECK_EQ_I64(kl.v[0].pgtables, 8);
	/* Full: the oldest goes. */
	for (int i = 0; i < MW_KMSG_KILLS_MAX; i++)
		mw_kmsg_parse_oom_kill(KILL_LINE, &kl);
	CHECK_EQ_I64(kl.n, MW_KMSG_KILLS_MAX);
}

/*
 * A store where a process grows and disappears at the tick the oom_kill
 * counter rises; with_event adds the eBPF source's oom-kill event, with_log
 * the kernel log's line naming the victim.
 */
static void history_case(bool with_event, bool with_log)
{
	struct mw_kmsg_kills kl = {0};
	char dir[] = "/tmp/mw-test-oom-XXXXXX", path[300], cmd[400];
	struct mw_store *st = NULL;
	struct mw_oom_history h = {0};
	struct mw_proc_sample v[2];
	struct mw_proc_set set = {.v = v, .cap = 2};
	struct mw_sys_sample sys;
	uint64_t t0 = mw_now_ns() - 60ull * 1000000000ull;
	int64_t kill_ms = 0;

	if (!mkdtemp(dir))
		return;
	snprintf(path, sizeof(path), "%s/oom.db", dir);
	CHECK_EQ_I64(mw_store_open_writer(path, NULL, &st, NULL), 0);
	if (!st)
		return;
	for (int i = 0; i < MW_MI_COUNT; i++)
		sys.mem[i] = 1 << 30;
	for (int i = 0; i < MW_VM_COUNT; i++)
		sys.vm[i] = 0;
	for (int i = 0; i < MW_PSI_COUNT; i++)
		sys.psi[i] = 0;
	sys.vm[MW_VM_oom_kill] = 3;
	for (int k = 0; k < 8; k++) {
		uint64_t t = t0 + (uint64_t)k * 1000000000ull;
		struct mw_tick tk = {.t_ns = t, .procs = &set, .sys = &sys};
		proc(&v[0], 500, "keeper", 100 << 20, 0, 0, 0);
		proc(&v[1], 501, "grower", (int64_t)(k + 1) << 24, 0, 0, 0);
		v[0].start_ticks = v[1].start_ticks = 10;
		v[0].cgroup = v[1].cgroup = (char *)"4:memory:/box";
		/* At tick 7 the grower is gone and the counter has risen by one. */
		set.n = k < 7 ? 2 : 1;
		if (k == 7) {
			sys.vm[MW_VM_oom_kill] = 4;
			kill_ms = (int64_t)(t / 1000000ull);
		}
		CHECK_EQ_I64(mw_store_write_tick(st, &tk), 0);
	}
	if (with_event)
		CHECK_EQ_I64(mw_store_add_event(
		                     st, (uint64_t)(kill_ms - 300) * 1000000ull, "oom-kill", 0, 501,
		                     "{\"victim_pid\":501,\"comm\":\"grower\",\"total_vm\":"
		                     "200000000,\"anon_rss\":117440512,\"file_rss\":4096,"
		                     "\"shmem_rss\":0,\"pgtables\":8192,\"oom_score_adj\":0}"),
		             0);
	mw_store_close(st);
	CHECK_EQ_I64(mw_store_open_reader(path, &st), 0);
	if (with_log) {
		/* The raw read leaves the growth to analysis. */
		mw_kmsg_parse_oom_kill(KILL_LINE, &kl);
		CHECK_EQ_I64(mw_store_oom_history(st, kill_ms - 3600000, kill_ms + 1000, &kl, &h),
		             0);
		CHECK(h.n == 1 && isnan(h.v[0].rss_slope) && h.v[0].npoints == 0);
		CHECK(h.n == 1 && h.v[0].cgroup_limit == MW_UNKNOWN);
		mw_oom_history_growth(st, &h);
	} else {
		CHECK_EQ_I64(mw_oom_history_from_store(st, kill_ms - 3600000, kill_ms + 1000, &h),
		             0);
	}
	CHECK_EQ_I64(h.counter_total, 1);
	CHECK_EQ_I64(h.n, 1); /* the event and the counter rise are one kill */
	if (h.n == 1) {
		CHECK_EQ_I64(h.v[0].pid, 501);
		CHECK_EQ_STR(h.v[0].comm, "grower");
		CHECK(h.v[0].from_event == with_event);
		CHECK(h.v[0].in_kernel_log == (with_log && !with_event));
		CHECK_EQ_I64(h.v[0].rss, with_event ? 117440512 + 4096
		                         : with_log ? (114688 + 4) * 1024
		                                    : 7 << 24);
		CHECK_EQ_I64(h.v[0].rss_last, 7 << 24);
		CHECK_EQ_I64(h.v[0].rss_before, 1 << 24);
		CHECK_NEAR(h.v[0].rss_slope, 1 << 24, 1);
		CHECK(h.v[0].npoints >= 7);
		CHECK_EQ_STR(h.v[0].cgroup, "4:memory:/box");
	}
	mw_oom_history_release(&h);
	mw_store_close(st);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	CHECK_EQ_I64(system(cmd), 0);
}

int main(void)
{
	test_ranking();
	test_forecast_recovery();
	test_kmsg_parse();
	history_case(false, false);
	history_case(true, false);
	history_case(false, true);
	history_case(true, true);
	return check_done();
}
