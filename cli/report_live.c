/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "report_live.h"
#include "memwatch/collect/cgroup.h"
#include "memwatch/collect/sysmem.h"
#include "memwatch/base/host.h"
#include "memwatch/base/util.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static void sleep_ns(uint64_t ns)
{
	struct timespec ts = {.tv_sec = (time_t)(ns / 1000000000ull),
	                      .tv_nsec = (long)(ns % 1000000000ull)};

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

static int series_append(struct mw_series *sr, size_t *cap, int64_t t_ms,
                         const int64_t m[MW_PM_COUNT])
{
	if (sr->n == *cap) {
		size_t nc = *cap ? *cap * 2 : 32;
		int64_t *t = realloc(sr->t_ms, nc * sizeof(*t));
		int64_t(*mm)[MW_PM_COUNT] = t ? realloc(sr->m, nc * sizeof(*mm)) : NULL;

		if (t)
			sr->t_ms = t;
		if (!mm)
			return -ENOMEM;
		sr->m = mm;
		*cap = nc;
	}
	sr->t_ms[sr->n] = t_ms;
	memcpy(sr->m[sr->n], m, sizeof(sr->m[sr->n]));
	sr->n++;
	return 0;
}

/* The first sample says who the process is; later ones must be the same one. */
static void take_identity(struct mw_report *rep, struct mw_proc_sample *smp, uint64_t btime)
{
	rep->proc.pid = smp->pid;
	rep->proc.ppid = smp->ppid;
	rep->proc.uid = smp->uid;
	rep->proc.start_ticks = smp->start_ticks;
	rep->proc.start_ms =
	        btime ? (int64_t)(btime * 1000 +
	                          smp->start_ticks * 1000 / (uint64_t)mw_clock_ticks_per_sec())
	              : MW_UNKNOWN;
	memcpy(rep->proc.comm, smp->comm, sizeof(smp->comm));
	rep->proc.cmdline = smp->cmdline;
	rep->proc.cgroup = smp->cgroup;
	smp->cmdline = smp->cgroup = NULL;
}

/*
 * One sample appended to rep. After the first, any failure to read the
 * process, or a different start time (the pid was reused), is -ESRCH: the
 * process we were watching is gone.
 */
static int sample_once(struct mw_proc_collector *c, pid_t pid, bool first, uint64_t btime,
                       size_t *cap, struct mw_report *rep)
{
	struct mw_proc_sample smp;
	int r = mw_proc_collect_one(c, pid, &smp);

	if (r < 0)
		return first ? r : -ESRCH;
	if (first) {
		take_identity(rep, &smp, btime);
	} else if (smp.start_ticks != rep->proc.start_ticks) {
		r = -ESRCH;
		goto out;
	}
	r = series_append(&rep->series, cap, (int64_t)(mw_now_ns() / 1000000ull), smp.m);
out:
	mw_proc_sample_release(&smp);
	return r;
}

static int copy_series(const struct mw_series *in, struct mw_series *out)
{
	memset(out, 0, sizeof(*out));
	if (in->n == 0)
		return 0;
	out->t_ms = malloc(in->n * sizeof(*out->t_ms));
	out->m = malloc(in->n * sizeof(*out->m));
	if (!out->t_ms || !out->m) {
		mw_series_release(out);
		return -ENOMEM;
	}
	memcpy(out->t_ms, in->t_ms, in->n * sizeof(*out->t_ms));
	memcpy(out->m, in->m, in->n * sizeof(*out->m));
	out->n = in->n;
	return 0;
}

/*
 * Live samples get the same analysis as stored ones (only as long as we
 * watched). mw_analyze_series consumes its series and the renderers still
 * need rep->series, so it gets a copy.
 */
/* What the analysis needs of the machine now: free memory and the binding cgroup limit. */
static void live_context(const struct mw_report *rep, struct mw_proc_context *ctx)
{
	struct mw_sys_sample sys;

	ctx->pid = rep->proc.pid;
	ctx->exit_ms = MW_UNKNOWN;
	ctx->mem_available = MW_UNKNOWN;
	if (mw_sys_sample_read("", &sys) == 0)
		ctx->mem_available = sys.mem[MW_MI_mem_available];
	if (mw_cgroup_memory_limit("", rep->proc.cgroup, &ctx->memcg) < 0)
		ctx->memcg.limit = ctx->memcg.usage = MW_UNKNOWN;
}

static int analyze_live(struct mw_report *rep, int64_t interval_ms)
{
	struct mw_proc_context ctx;
	struct mw_series copy;
	int r = copy_series(&rep->series, &copy);

	if (r < 0)
		return r;
	rep->an = calloc(1, sizeof(*rep->an));
	if (!rep->an) {
		r = -ENOMEM;
		goto out;
	}
	live_context(rep, &ctx);
	r = mw_analyze_series(&copy, interval_ms, &ctx, rep->an);
out:
	mw_series_release(&copy);
	return r;
}

int mw_report_from_live(struct mw_proc_collector *c, pid_t pid, uint64_t duration_ns,
                        uint64_t interval_ns, struct mw_report *rep)
{
	size_t cap = 0;
	uint64_t start = mw_mono_ns();
	uint64_t btime = 0;
	int r;

	memset(rep, 0, sizeof(*rep));
	rep->source = MW_REPORT_FROM_LIVE;
	rep->alive = true;
	mw_boot_time("", &btime);
	for (int k = 0;; k++) {
		r = sample_once(c, pid, k == 0, btime, &cap, rep);
		if (r == -ESRCH && k > 0) {
			rep->alive = false; /* gone while we watched: report what we saw */
			break;
		}
		if (r < 0)
			return r;
		if (mw_mono_ns() - start + interval_ns / 2 > duration_ns)
			break;
		sleep_ns(interval_ns);
	}
	mw_report_summarize(rep);
	snprintf(rep->note, sizeof(rep->note),
	         "no recorded history: memwatchd was not recording this process; these figures"
	         " come from %zu samples taken over %.1f s by this command",
	         rep->series.n, (double)(rep->to_ms - rep->from_ms) / 1000.0);
	return analyze_live(rep, (int64_t)(interval_ns / 1000000ull));
}
