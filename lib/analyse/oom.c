/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "memwatch/analyse/oom.h"
#include "memwatch/analyse/trend.h"
#include "memwatch/base/util.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* The victim's series in the minutes before the kill: what grew. */
static void kill_growth(struct mw_store *s, struct mw_oom_kill *k)
{
	struct mw_series sr = {0};
	double *t = NULL, *y = NULL;

	k->rss_slope = NAN;
	k->rss_before = k->rss_last = MW_UNKNOWN;
	k->before_ms = k->t_ms - MW_OOM_GROWTH_WINDOW_MS;
	if (!k->proc_id || mw_store_proc_series(s, k->proc_id, k->before_ms, k->t_ms, &sr) < 0 ||
	    sr.n == 0)
		goto out;
	k->rss_before = sr.m[0][MW_PM_rss];
	k->rss_last = sr.m[sr.n - 1][MW_PM_rss];
	k->last_sample_ms = sr.t_ms[sr.n - 1];
	if (k->rss == MW_UNKNOWN)
		k->rss = k->rss_last;
	if (k->swap == MW_UNKNOWN)
		k->swap = sr.m[sr.n - 1][MW_PM_swap];
	t = malloc(sr.n * sizeof(*t));
	y = malloc(sr.n * sizeof(*y));
	if (!t || !y)
		goto out;
	for (size_t i = 0; i < sr.n; i++) {
		t[i] = (double)(sr.t_ms[i] - sr.t_ms[0]) / 1000.0;
		y[i] = (double)sr.m[i][MW_PM_rss];
	}
	if (sr.n >= 2)
		k->rss_slope = mw_trend_theil_sen(t, y, sr.n);
	/* Keep at most 32 points, evenly spread, always the last. */
	for (size_t i = 0; i < 32 && i < sr.n; i++) {
		size_t j = sr.n <= 32 ? i : i * (sr.n - 1) / 31;
		k->pt_ms[i] = sr.t_ms[j];
		k->pt_rss[i] = sr.m[j][MW_PM_rss];
		k->npoints = i + 1;
	}
out:
	free(t);
	free(y);
	mw_series_release(&sr);
}

void mw_oom_history_growth(struct mw_store *s, struct mw_oom_history *h)
{
	for (size_t i = 0; i < h->n; i++)
		kill_growth(s, &h->v[i]);
}

int mw_oom_history_from_store(struct mw_store *s, int64_t since_ms, int64_t until_ms,
                              struct mw_oom_history *h)
{
	int r = mw_store_oom_history(s, since_ms, until_ms, NULL, h);

	if (r < 0)
		return r;
	mw_oom_history_growth(s, h);
	return 0;
}

bool mw_oom_critical_comm(const char *comm)
{
	static const char *const names[] = {
	        "sshd",           "sshd-session", "systemd",     "systemd-journal",
	        "systemd-logind", "init",         "dbus-daemon", "memwatchd",
	        "containerd",     "dockerd",      "kubelet",     "auditd"};

	for (size_t i = 0; i < MW_ARRAY_SIZE(names); i++)
		if (strcmp(comm, names[i]) == 0)
			return true;
	return false;
}

void mw_oom_forecast_release(struct mw_oom_forecast *f)
{
	free(f->v);
	memset(f, 0, sizeof(*f));
}

static int cmp_cand(const void *a, const void *b)
{
	const struct mw_oom_candidate *x = a, *y = b;

	if (x->points != y->points)
		return x->points > y->points ? -1 : 1;
	/* The kernel keeps the first it finds on a tie; lower pids are older and found first. */
	return (x->pid > y->pid) - (x->pid < y->pid);
}

static double proc_slope(const struct mw_sysview *view, pid_t pid)
{
	if (!view)
		return NAN;
	for (size_t i = 0; i < view->nproc; i++) {
		const struct mw_proc_view *p = &view->procs[i];
		double *t;
		double s;

		if (p->pid != pid || p->n < 2)
			continue;
		t = malloc(p->n * sizeof(*t));
		if (!t)
			return NAN;
		for (size_t k = 0; k < p->n; k++)
			t[k] = (double)(p->t_ms[k] - p->t_ms[0]) / 1000.0;
		s = mw_trend_theil_sen(t, p->rss, p->n);
		free(t);
		return s;
	}
	return NAN;
}

static void avail_trend(const struct mw_sysview *view, struct mw_oom_forecast *f)
{
	double *t, *y;
	struct mw_trend tr;

	f->avail_slope = NAN;
	f->avail_p = 1;
	f->seconds_to_oom = NAN;
	if (!view || view->n < 3)
		return;
	t = malloc(view->n * sizeof(*t));
	y = malloc(view->n * sizeof(*y));
	if (t && y) {
		size_t n = 0;
		for (size_t i = 0; i < view->n; i++) {
			if (view->sys[i].mem[MW_MI_mem_available] == MW_UNKNOWN)
				continue;
			t[n] = (double)(view->t_ms[i] - view->t_ms[0]) / 1000.0;
			y[n++] = (double)view->sys[i].mem[MW_MI_mem_available];
		}
		if (n >= 3 && mw_trend_compute(t, y, n, &tr) == 0) {
			double span = t[n - 1] - t[0];
			double fell = tr.first - tr.last,
			       total = (double)view->sys[view->n - 1].mem[MW_MI_mem_total];
			double lo = y[0], hi = y[0];
			for (size_t i = 1; i < n; i++) {
				lo = fmin(lo, y[i]);
				hi = fmax(hi, y[i]);
			}
			f->avail_slope = tr.slope;
			f->avail_p = tr.mk_p;
			/*
			 * Memory given back (a cache dropped, a big process gone): MemAvailable
			 * stands in the upper half of its range again, well above its low. The
			 * fall before says nothing about the next hour (issue 15 item 6).
			 */
			bool recovered = tr.last - lo >= 0.5 * (hi - lo) &&
			                 tr.last - lo >= fmax(MW_OOM_MIN_FALL, total / 100.0);
			/*
			 * A forecast needs a real trend: significant, over a minute or more,
			 * the floor falling too, and a fall that is not noise on a busy box.
			 */
			if (!recovered && tr.slope < 0 && tr.mk_p < 0.05 && f->mem_available > 0 &&
			    span >= MW_OOM_MIN_SPAN_S && !(tr.floor_slope > 0) &&
			    fell >= fmax(MW_OOM_MIN_FALL, total / 100.0))
				f->seconds_to_oom = (double)f->mem_available / -tr.slope;
		}
	}
	free(t);
	free(y);
}

int mw_oom_forecast(const struct mw_proc_set *procs, const struct mw_sys_sample *now,
                    const struct mw_sysview *view, struct mw_oom_forecast *f)
{
	int64_t page = sysconf(_SC_PAGESIZE);

	memset(f, 0, sizeof(*f));
	f->page_size = page;
	f->victim_at_oom = -1;
	f->totalpages = ((now->mem[MW_MI_mem_total] > 0 ? now->mem[MW_MI_mem_total] : 0) +
	                 (now->mem[MW_MI_swap_total] > 0 ? now->mem[MW_MI_swap_total] : 0)) /
	                page;
	if (f->totalpages <= 0)
		return -EINVAL;
	f->mem_available = now->mem[MW_MI_mem_available];
	f->v = calloc(procs->n ? procs->n : 1, sizeof(*f->v));
	if (!f->v)
		return -ENOMEM;
	for (size_t i = 0; i < procs->n; i++) {
		const struct mw_proc_sample *p = &procs->v[i];
		struct mw_oom_candidate *c = &f->v[f->n];
		int64_t adj = p->m[MW_PM_oom_adj] == MW_UNKNOWN ? 0 : p->m[MW_PM_oom_adj];

		if (p->pid != 1 && mw_oom_critical_comm(p->comm) && adj > -1000 &&
		    f->nprotect < MW_ARRAY_SIZE(f->protect)) {
			f->protect[f->nprotect].pid = p->pid;
			f->protect[f->nprotect].adj = adj;
			memcpy(f->protect[f->nprotect].comm, p->comm, sizeof(p->comm));
			f->nprotect++;
		}
		/* The kernel never picks init, nor a task exempted with -1000. */
		if (adj <= -1000 || p->pid == 1) {
			f->exempt++;
			continue;
		}
		c->pid = p->pid;
		memcpy(c->comm, p->comm, sizeof(c->comm));
		c->rss = p->m[MW_PM_rss] == MW_UNKNOWN ? 0 : p->m[MW_PM_rss];
		c->swap = p->m[MW_PM_swap] == MW_UNKNOWN ? 0 : p->m[MW_PM_swap];
		c->pte = p->m[MW_PM_pte] == MW_UNKNOWN ? 0 : p->m[MW_PM_pte];
		c->adj = adj;
		c->kernel_score = p->m[MW_PM_oom_score];
		/* mm/oom_kill.c oom_badness(): pages, then the user's bias in 1/1000 of all pages.
		 */
		c->points = (double)(c->rss / page + c->swap / page + c->pte / page) +
		            (double)(adj * (f->totalpages / 1000));
		/* fs/proc/base.c proc_oom_score(): scaled to 0..2000, then by 2/3 (0..1333). */
		c->score = (1000 + (int64_t)(c->points * 1000.0 / (double)f->totalpages)) * 2 / 3;
		if (c->score < 0)
			c->score = 0;
		c->rss_slope = proc_slope(view, p->pid);
		c->seconds_to_limit = NAN;
		c->cgroup_limit = c->cgroup_usage = MW_UNKNOWN;
		f->n++;
	}
	mw_qsort(f->v, f->n, sizeof(*f->v), cmp_cand);
	avail_trend(view, f);
	if (isfinite(f->seconds_to_oom)) {
		double best = -INFINITY;
		for (size_t i = 0; i < f->n; i++) {
			double grow = isfinite(f->v[i].rss_slope) && f->v[i].rss_slope > 0
			                      ? f->v[i].rss_slope * f->seconds_to_oom / (double)page
			                      : 0;
			if (f->v[i].points + grow > best) {
				best = f->v[i].points + grow;
				f->victim_at_oom = (long)i;
			}
		}
	}
	return 0;
}
