/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "memwatch/analyse/procreport.h"
#include "memwatch/base/util.h"
#include "memwatch/store/retention.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define FAULT_RATE_WINDOW_MS 60000

int64_t mw_series_at(const struct mw_series *sr, int metric, int64_t t_ms)
{
	int64_t v = MW_UNKNOWN;

	/* Series are short enough (one process, one window) for a linear scan. */
	for (size_t i = 0; i < sr->n && sr->t_ms[i] <= t_ms; i++)
		v = sr->m[i][metric];
	return v;
}

static double rate_per_s(const struct mw_series *sr, int metric, int64_t end_ms)
{
	int64_t start_ms = end_ms - FAULT_RATE_WINDOW_MS;
	int64_t a, b;

	if (sr->n == 0)
		return NAN;
	if (start_ms < sr->t_ms[0])
		start_ms = sr->t_ms[0];
	if (end_ms <= start_ms)
		return NAN;
	a = mw_series_at(sr, metric, start_ms);
	b = mw_series_at(sr, metric, end_ms);
	if (a == MW_UNKNOWN || b == MW_UNKNOWN || b < a)
		return NAN;
	return (double)(b - a) * 1000.0 / (double)(end_ms - start_ms);
}

/* Shared by both sources, once rep->series is filled. */
void mw_report_summarize(struct mw_report *rep)
{
	const struct mw_series *sr = &rep->series;
	double hours;

	mw_runtime_detect(rep->proc.comm, rep->proc.cmdline, &rep->runtime);
	rep->runtime_step[0] = '\0';
	if (rep->alive)
		mw_runtime_next_step(rep->runtime.kind, rep->proc.pid, rep->runtime_step,
		                     sizeof(rep->runtime_step));

	if (sr->n == 0)
		return;
	rep->from_ms = sr->t_ms[0];
	rep->to_ms = sr->t_ms[sr->n - 1];
	hours = (double)(rep->to_ms - rep->from_ms) / 3600000.0;
	for (int i = 0; i < MW_PM_COUNT; i++) {
		int64_t a = sr->m[0][i], b = sr->m[sr->n - 1][i];

		rep->now[i] = b;
		rep->delta[i] = a == MW_UNKNOWN || b == MW_UNKNOWN ? MW_UNKNOWN : b - a;
		rep->per_hour[i] = rep->delta[i] == MW_UNKNOWN || hours <= 0
		                           ? NAN
		                           : (double)rep->delta[i] / hours;
	}
	rep->minflt_per_s = rate_per_s(sr, MW_PM_minflt, rep->to_ms);
	rep->majflt_per_s = rate_per_s(sr, MW_PM_majflt, rep->to_ms);
}

int mw_report_from_store(struct mw_store *s, const struct mw_proc_info *proc, int64_t since_ms,
                         int64_t until_ms, struct mw_report *rep)
{
	int r;

	memset(rep, 0, sizeof(*rep));
	rep->source = MW_REPORT_FROM_STORE;
	rep->proc = *proc;
	rep->proc.cmdline = strdup(proc->cmdline ? proc->cmdline : "");
	rep->proc.cgroup = strdup(proc->cgroup ? proc->cgroup : "");
	if (!rep->proc.cmdline || !rep->proc.cgroup)
		return -ENOMEM;
	rep->alive = !proc->exited;
	/* Raw rows inside the raw window, rollups before it (retention.h). */
	r = mw_store_proc_series_long(s, proc->id, since_ms, until_ms, &rep->series);
	if (r < 0)
		return r;
	if (rep->series.n == 0)
		return -ENODATA;
	mw_report_summarize(rep);
	rep->an = calloc(1, sizeof(*rep->an));
	if (!rep->an)
		return -ENOMEM;
	r = mw_analyze_process(s, proc->id, since_ms, until_ms, rep->an);
	return r;
}

void mw_report_release(struct mw_report *rep)
{
	mw_proc_info_release(&rep->proc);
	mw_series_release(&rep->series);
	if (rep->an) {
		mw_analysis_release(rep->an);
		free(rep->an);
		rep->an = NULL;
	}
}
