/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Synthetic 24-hour store for bench/report_speed, written through the
 * real store API (so the schema and the change-only density are the
 * daemon's): NPROCS processes sampled every 5 s, ending now. Most are
 * flat (stored only as periodic full rows), some busy (a counter moves
 * every minute), some grow every tick. Pids start at 3900000 so they
 * cannot collide with live processes on a default pid_max.
 *
 * Usage: gen_store DB [NPROCS] [HOURS]
 */
#include "memwatch/store/store.h"
#include "memwatch/base/util.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SEC      1000000000ull
#define STEP     (5 * SEC)
#define PID_BASE 3900000

static void fill(struct mw_proc_sample *p, int i, uint64_t k)
{
	int64_t *m = p->m;

	for (int j = 0; j < MW_PM_COUNT; j++)
		m[j] = 0;
	m[MW_PM_rss_anon] = (int64_t)(20 + i % 50) << 20;
	m[MW_PM_rss_file] = 6 << 20;
	m[MW_PM_stack] = 132 << 10;
	m[MW_PM_data] = m[MW_PM_rss_anon] + (8 << 20);
	m[MW_PM_vsz] = m[MW_PM_data] + (64 << 20);
	m[MW_PM_pte] = 200 << 10;
	m[MW_PM_threads] = 1 + i % 8;
	m[MW_PM_fds] = 8 + i % 20;
	m[MW_PM_oom_score] = 5;
	if (i % 10 == 0) /* 10 %: a leak, 4 KiB per tick */
		m[MW_PM_rss_anon] += (int64_t)k * 4096;
	else if (i % 10 == 1) /* 10 %: busy, a counter moves every minute */
		m[MW_PM_minflt] = (int64_t)(k / 12) * 17;
	m[MW_PM_rss] = m[MW_PM_rss_anon] + m[MW_PM_rss_file];
}

int main(int argc, char **argv)
{
	struct mw_store_options opt = {.full_row_every_ns = MW_STORE_FULL_ROW_EVERY_NS};
	struct mw_store *st = NULL;
	struct mw_sys_sample sys;
	int nprocs = argc > 2 ? atoi(argv[2]) : 500;
	double hours = argc > 3 ? atof(argv[3]) : 24;
	uint64_t ticks = (uint64_t)(hours * 3600.0) * SEC / STEP, now = mw_now_ns();
	struct mw_proc_sample *v;
	struct mw_proc_set set;
	int r;

	if (argc < 2 || nprocs <= 0 || hours <= 0) {
		fprintf(stderr, "usage: gen_store DB [NPROCS] [HOURS]\n");
		return 2;
	}
	v = calloc((size_t)nprocs, sizeof(*v));
	if (!v)
		return 1;
	set = (struct mw_proc_set){.v = v, .n = (size_t)nprocs, .cap = (size_t)nprocs};
	for (int i = 0; i < nprocs; i++) {
		v[i].pid = PID_BASE + i;
		v[i].ppid = 1;
		v[i].start_ticks = 1000 + (uint64_t)i;
		snprintf(v[i].comm, sizeof(v[i].comm), "svc%d", i);
		v[i].cmdline = strdup(v[i].comm);
		v[i].cgroup = strdup("0::/bench");
	}
	memset(&sys, 0, sizeof(sys));
	for (int j = 0; j < MW_VM_COUNT; j++)
		sys.vm[j] = 0;
	sys.mem[MW_MI_mem_total] = 24ll << 30;
	sys.mem[MW_MI_mem_available] = 16ll << 30;
	r = mw_store_open_writer(argv[1], &opt, &st, NULL);
	if (r < 0) {
		fprintf(stderr, "gen_store: %s: %s\n", argv[1], strerror(-r));
		return 1;
	}
	for (uint64_t k = 0; k < ticks && r == 0; k++) {
		struct mw_tick tk = {.t_ns = now - (ticks - k) * STEP, .procs = &set, .sys = &sys};
		for (int i = 0; i < nprocs; i++)
			fill(&v[i], i, k);
		r = mw_store_write_tick(st, &tk);
	}
	if (r < 0)
		fprintf(stderr, "gen_store: write: %s\n", strerror(-r));
	mw_store_close(st);
	for (int i = 0; i < nprocs; i++)
		mw_proc_sample_release(&v[i]);
	free(v);
	printf("%d processes, %llu ticks\n", nprocs, (unsigned long long)ticks);
	return r < 0 ? 1 : 0;
}
