/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "memwatch/analyse/analysis.h"
#include "memwatch/store/procread.h"
#include "memwatch/store/callsitestore.h"
#include "memwatch/collect/sysmem.h"
#include "memwatch/base/util.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const int64_t mw_analysis_windows_s[MW_ANALYSIS_NWINDOWS] = {300, 3600, 86400};

#define X_NAME(name, kind, src, label)  #name,
#define X_LABEL(name, kind, src, label) label,
#define X_KIND(name, kind, src, label)  kind,
#define X_SRC(name, kind, src, label)   src,
const char *const mw_ametric_names[MW_AM_COUNT] = {MW_AMETRICS(X_NAME)};
const char *const mw_ametric_labels[MW_AM_COUNT] = {MW_AMETRICS(X_LABEL)};
const char mw_ametric_kinds[MW_AM_COUNT] = {MW_AMETRICS(X_KIND)};
static const char ametric_src[MW_AM_COUNT] = {MW_AMETRICS(X_SRC)};

/* Which process column each 'P' metric reads. */
static int proc_column(int m)
{
	switch (m) {
	case MW_AM_rss:
		return MW_PM_rss;
	case MW_AM_rss_anon:
		return MW_PM_rss_anon;
	case MW_AM_rss_file:
		return MW_PM_rss_file;
	case MW_AM_rss_shmem:
		return MW_PM_rss_shmem;
	case MW_AM_swap:
		return MW_PM_swap;
	case MW_AM_vm_stack:
		return MW_PM_stack;
	case MW_AM_vm_data:
		return MW_PM_data;
	case MW_AM_pte:
		return MW_PM_pte;
	case MW_AM_threads:
		return MW_PM_threads;
	case MW_AM_fds:
		return MW_PM_fds;
	default:
		return -1;
	}
}

#define REG_BIT(k) (1u << MW_REG_##k)

/* The regions a byte or mapping-count metric adds up; 0 for the others. */
static unsigned region_mask(int m)
{
	switch (m) {
	case MW_AM_heap:
		return REG_BIT(heap);
	case MW_AM_anon:
	case MW_AM_anon_maps:
		return REG_BIT(anon) | REG_BIT(arena);
	case MW_AM_main_stack:
		return REG_BIT(stack);
	case MW_AM_file:
	case MW_AM_file_maps:
		return REG_BIT(file_exec) | REG_BIT(file_data);
	case MW_AM_shm:
		return REG_BIT(shm_sysv) | REG_BIT(shm_posix) | REG_BIT(shm_anon) | REG_BIT(memfd);
	default:
		return 0;
	}
}

/* The summed size, rss and count of the masked regions of one point. */
static struct mw_region_stat region_sum(unsigned mask, const struct mw_region_point *p)
{
	struct mw_region_stat s = {0};

	for (int k = 0; k < MW_REG_COUNT; k++) {
		if (!(mask & (1u << k)))
			continue;
		s.size = mw_add_sat(s.size, p->reg.r[k].size);
		s.rss = mw_add_sat(s.rss, p->reg.r[k].rss);
		s.count = mw_add_sat(s.count, p->reg.r[k].count);
	}
	return s;
}

static int64_t region_value(int m, const struct mw_region_point *p)
{
	const struct mw_region_stat *r = p->reg.r;
	unsigned mask = region_mask(m);

	if (!p->reg.readable)
		return MW_UNKNOWN;
	switch (m) {
	case MW_AM_anon_maps:
	case MW_AM_file_maps:
		return region_sum(mask, p).count;
	case MW_AM_thread_stacks:
		return r[MW_REG_thread_stacks].size;
	case MW_AM_thread_stack_maps:
		return r[MW_REG_thread_stacks].count;
	case MW_AM_so_files:
		return p->reg.so_files;
	default:
		return mask ? region_sum(mask, p).rss : MW_UNKNOWN;
	}
}

/*
 * Growth bounded by a mapping (docs/analysis.md): over [lo, hi] the
 * regions of m kept one size and one mapping count while their RSS rose,
 * so they fill address space that was there all along (a cache or a
 * buffer pool warming up) and can grow no further than that size. The
 * size, or NAN when m is not such a metric or anything was mapped or
 * unmapped.
 */
static double bound_of(const struct mw_analysis *a, int m, int64_t lo, int64_t hi)
{
	unsigned mask = ametric_src[m] == 'R' && mw_ametric_kinds[m] == 'b' ? region_mask(m) : 0;
	struct mw_region_stat first = {0}, last = {0};
	size_t n = 0;

	for (size_t i = 0; mask && i < a->reg.n; i++) {
		const struct mw_region_point *p = &a->reg.v[i];
		bool next_in = i + 1 < a->reg.n && a->reg.v[i + 1].t_ms <= lo;
		if (p->t_ms > hi || next_in || !p->reg.readable)
			continue; /* outside, or not the point that stands for lo */
		last = region_sum(mask, p);
		if (n++ == 0)
			first = last;
		if (last.size != first.size || last.count != first.count)
			return NAN;
	}
	/* Resident beyond the size: not these mappings filling (a test's or a kernel's oddity). */
	if (n < 2 || first.count == 0 || !(last.rss > first.rss) || last.rss > last.size)
		return NAN;
	return (double)first.size;
}

static int64_t fd_value(int m, const struct mw_region_point *p)
{
	const int64_t *n = p->fds.n;

	if (!p->fds.readable)
		return MW_UNKNOWN;
	switch (m) {
	case MW_AM_fd_socket:
		return n[MW_FD_socket];
	case MW_AM_fd_pipe:
		return n[MW_FD_pipe];
	case MW_AM_fd_file:
		return n[MW_FD_file];
	case MW_AM_fd_other:
		return n[MW_FD_eventfd] + n[MW_FD_anon_other] + n[MW_FD_other];
	default:
		return MW_UNKNOWN;
	}
}

static int ipc_index(int m)
{
	return m == MW_AM_ipc_shm_orphan_bytes ? 1 : 0;
}

/* A metric's raw points, in time order, unknown values dropped. */
struct raw {
	size_t n;
	int64_t *t;
	double *y;
};

static int raw_fill(const struct mw_analysis *a, int m, struct raw *out)
{
	const struct mw_ipc_series *ipc = ametric_src[m] == 'Q' ? &a->ipc[ipc_index(m)] : NULL;
	size_t cap = ametric_src[m] == 'P' ? a->proc.n : ipc ? ipc->n : a->reg.n;

	out->n = 0;
	out->t = malloc((cap ? cap : 1) * sizeof(*out->t));
	out->y = malloc((cap ? cap : 1) * sizeof(*out->y));
	if (!out->t || !out->y)
		return -ENOMEM;
	for (size_t i = 0; i < cap; i++) {
		int64_t v, t;
		if (ametric_src[m] == 'P') {
			v = a->proc.m[i][proc_column(m)];
			t = a->proc.t_ms[i];
		} else if (ipc) {
			v = ipc->v[i];
			t = ipc->t_ms[i];
		} else {
			v = ametric_src[m] == 'R' ? region_value(m, &a->reg.v[i])
			                          : fd_value(m, &a->reg.v[i]);
			t = a->reg.v[i].t_ms;
		}
		if (v == MW_UNKNOWN)
			continue;
		out->t[out->n] = t;
		out->y[out->n++] = (double)v;
	}
	return 0;
}

static void raw_release(struct raw *r)
{
	free(r->t);
	free(r->y);
}

/* Below this, a rise is noise: a page of RSS, or half a thread/fd. */
static double noise_floor(int m)
{
	return mw_ametric_kinds[m] == 'b' ? 65536.0 : 0.5;
}

/*
 * Seconds the grid has spent within tolerance of its final maximum: long
 * for a series that grew and then stopped, short for one still rising.
 */
static double plateau_of(int m, const double *t, const double *y, size_t n)
{
	double mx = y[0], mn = y[0], tol;

	for (size_t i = 1; i < n; i++) {
		mx = y[i] > mx ? y[i] : mx;
		mn = y[i] < mn ? y[i] : mn;
	}
	tol = fmax(noise_floor(m), 0.02 * (mx - mn));
	for (size_t i = 0; i < n; i++)
		if (y[i] >= mx - tol)
			return t[n - 1] - t[i];
	return 0;
}

/* Sample the step function of raw at a regular grid over [lo, hi] (ms). */
static size_t resample(const struct raw *r, int64_t lo, int64_t hi, double step_ms, double *gt,
                       double *gy, size_t cap)
{
	size_t n = 0, j = 0, total = (size_t)((double)(hi - lo) / step_ms) + 1;
	bool have = false;
	double cur = 0;

	if (total > cap)
		total = cap;
	/* Anchored at hi: the last grid point is the latest sample. */
	for (size_t k = 0; k < total; k++) {
		double tk = (double)hi - step_ms * (double)(total - 1 - k);
		while (j < r->n && (double)r->t[j] <= tk) {
			cur = r->y[j++];
			have = true;
		}
		if (!have)
			continue;
		gt[n] = tk / 1000.0;
		gy[n++] = cur;
	}
	return n;
}

/*
 * The shortest gap between two raw samples in [lo, hi] (0 with fewer than
 * two). Slow-tier rows are stored when they change, so the
 * shortest gap, not the median, is the tier's interval; gaps under half a
 * second are rows before the window collapsed into its start.
 */
static void sample_spacing(const struct raw *r, int64_t lo, int64_t hi, struct mw_metric_window *w)
{
	int64_t prev = MW_UNKNOWN, gap = 0;

	for (size_t i = 0; i < r->n && r->t[i] <= hi; i++) {
		if (r->t[i] < lo)
			continue;
		if (prev != MW_UNKNOWN && r->t[i] - prev >= 500 && (!gap || r->t[i] - prev < gap))
			gap = r->t[i] - prev;
		prev = r->t[i];
	}
	w->sample_s = (double)gap / 1000.0;
}

static int window_stats(struct mw_analysis *a, int m, const struct raw *r, int wi, double *gt,
                        double *gy, size_t *gn)
{
	struct mw_metric_window *w = &a->m[m].w[wi];
	int64_t hi = r->t[r->n - 1], lo = hi - mw_analysis_windows_s[wi] * 1000;
	double step;
	size_t n;

	if (lo < r->t[0])
		lo = r->t[0];
	if (lo < a->since_ms)
		lo = a->since_ms;
	memset(w, 0, sizeof(*w));
	w->bound = NAN;
	w->window_s = mw_analysis_windows_s[wi];
	if (hi <= lo)
		return 0;
	step = fmax((double)(hi - lo) / (double)(a->max_points - 1), (double)a->interval_ms);
	n = resample(r, lo, hi, step, gt, gy, (size_t)a->max_points + 1);
	*gn = n;
	if (n < 3)
		return 0;
	/* Slow-tier sources are staircases on this grid: fit them on their samples. */
	int rc = ametric_src[m] == 'P' ? mw_trend_compute(gt, gy, n, &w->tr)
	                               : mw_trend_compute_steps(gt, gy, n, &w->tr);
	if (rc < 0)
		return rc;
	w->valid = true;
	w->from_ms = lo;
	w->to_ms = hi;
	w->step_s = step / 1000.0;
	w->slope_per_h = w->tr.slope * 3600.0;
	w->floor_slope_per_h = w->tr.floor_slope * 3600.0;
	w->min = w->max = gy[0];
	for (size_t i = 1; i < n; i++) {
		w->min = fmin(w->min, gy[i]);
		w->max = fmax(w->max, gy[i]);
		if (gy[i] > gy[i - 1])
			w->rise += gy[i] - gy[i - 1];
		else
			w->fall += gy[i - 1] - gy[i];
	}
	w->plateau_s = plateau_of(m, gt, gy, n);
	sample_spacing(r, lo, hi, w);
	w->bound = bound_of(a, m, lo, hi);
	return 0;
}

static int keep_grid(struct mw_metric_analysis *ma, const double *gt, const double *gy, size_t n)
{
	free(ma->grid_t);
	free(ma->grid_y);
	ma->grid_t = malloc(n * sizeof(double));
	ma->grid_y = malloc(n * sizeof(double));
	ma->grid_n = 0;
	if (!ma->grid_t || !ma->grid_y)
		return -ENOMEM;
	memcpy(ma->grid_t, gt, n * sizeof(double));
	memcpy(ma->grid_y, gy, n * sizeof(double));
	ma->grid_n = n;
	return 0;
}

static int analyze_metric(struct mw_analysis *a, int m)
{
	struct mw_metric_analysis *ma = &a->m[m];
	struct raw r = {0};
	size_t cap = (size_t)a->max_points + 1, gn = 0;
	double *gt = malloc(cap * sizeof(*gt)), *gy = malloc(cap * sizeof(*gy));
	int64_t prev_from = MW_UNKNOWN;
	int rc = -ENOMEM;

	if (!gt || !gy)
		goto out;
	rc = raw_fill(a, m, &r);
	if (rc < 0 || r.n == 0)
		goto out;
	ma->available = true;
	for (int wi = 0; wi < a->nwindows; wi++) {
		rc = window_stats(a, m, &r, wi, gt, gy, &gn);
		if (rc < 0)
			goto out;
		if (!ma->w[wi].valid)
			continue;
		/* A longer window over the same data says nothing new. */
		if (ma->w[wi].from_ms == prev_from) {
			ma->w[wi].valid = false;
			continue;
		}
		prev_from = ma->w[wi].from_ms;
		rc = keep_grid(ma, gt, gy, gn);
		if (rc < 0)
			goto out;
	}
	rc = 0;
out:
	raw_release(&r);
	free(gt);
	free(gy);
	return rc;
}

static int load_regions(struct mw_store *s, struct mw_analysis *a)
{
	if (!mw_store_has_table(s, "region_samples"))
		return 0;
	int r = mw_store_region_series(s, a->proc_id, a->since_ms, a->until_ms, &a->reg);
	if (r < 0)
		return r;
	for (size_t i = 0; i < a->reg.n; i++) {
		a->have_regions |= a->reg.v[i].reg.readable;
		a->have_fd_kinds |= a->reg.v[i].fds.readable;
	}
	return 0;
}

static void set_cgroup_limit(struct mw_analysis *a, const struct mw_cgroup_limit *cl)
{
	if (cl->limit == MW_UNKNOWN)
		return;
	a->cgroup_limit = cl->limit;
	a->cgroup_usage = cl->usage;
	snprintf(a->cgroup_path, sizeof(a->cgroup_path), "%s", cl->path);
}

/* Everything as recorded: a copied database replays with the recording host's limits. */
static void load_context(struct mw_store *s, struct mw_analysis *a)
{
	struct mw_proc_context ctx;
	char writer[32];

	if (mw_store_proc_context(s, a->proc_id, a->until_ms, &ctx) == 0) {
		a->pid = ctx.pid;
		a->exit_ms = ctx.exit_ms;
		a->recorder = ctx.pid > 0 &&
		              mw_store_meta_get(s, "writer_pid", writer, sizeof(writer)) == 0 &&
		              strtol(writer, NULL, 10) == ctx.pid;
		a->mem_available = ctx.mem_available;
		set_cgroup_limit(a, &ctx.memcg);
	}
	a->ipc_tables =
	        mw_store_has_table(s, "ipc_objects") && mw_store_has_table(s, "ipc_samples");
	if (mw_store_ipc_series(s, a->proc_id, a->since_ms, a->until_ms, a->to_ms, a->ipc) < 0)
		a->ipc[0].n = a->ipc[1].n =
		        0; /* out of memory: say nothing about IPC rather than fail */
	mw_store_bpf_proc_evidence(s, a->proc_id, a->from_ms, a->to_ms, &a->bpf);
	if (mw_store_proc_limits(s, a->proc_id, a->until_ms, &a->limits) < 0)
		a->limits.readable = false; /* none recorded: no limit rule fires */
	if (mw_callsite_evidence(s, a->proc_id, a->since_ms, a->until_ms, 3, &a->callsite_lines,
	                         &a->ncallsite_lines) < 0)
		a->ncallsite_lines = 0;
	if (mw_store_bpf_status(s, a->bpf_state, sizeof(a->bpf_state)) < 0)
		a->bpf_state[0] = '\0';
	mw_store_bpf_missing(s, a->bpf_missing, sizeof(a->bpf_missing));
	mw_store_bpf_gaps(s, a->bpf_gaps, sizeof(a->bpf_gaps));
}

static void analysis_init(struct mw_analysis *a)
{
	memset(a, 0, sizeof(*a));
	a->mem_available = a->cgroup_limit = a->cgroup_usage = MW_UNKNOWN;
	a->exit_ms = MW_UNKNOWN;
	a->oom_score = a->oom_adj = MW_UNKNOWN;
	a->limits.nofile_soft = a->limits.nofile_hard = MW_UNKNOWN;
	a->limits.stack_soft = a->limits.nproc_soft = MW_UNKNOWN;
	a->nwindows = MW_ANALYSIS_NWINDOWS;
	a->max_points = MW_ANALYSIS_MAX_POINTS;
}

/* Trends for every metric with data, then the hypotheses. */
static int analysis_run(struct mw_analysis *a)
{
	int r;

	if (a->proc.n == 0)
		return -ENODATA;
	a->from_ms = a->proc.t_ms[0];
	a->to_ms = a->proc.t_ms[a->proc.n - 1];
	a->oom_score = a->proc.m[a->proc.n - 1][MW_PM_oom_score];
	a->oom_adj = a->proc.m[a->proc.n - 1][MW_PM_oom_adj];
	for (int m = 0; m < MW_AM_COUNT; m++) {
		if (ametric_src[m] == 'R' && !a->have_regions)
			continue;
		if (ametric_src[m] == 'F' && !a->have_fd_kinds)
			continue;
		if (ametric_src[m] == 'Q' && a->ipc[ipc_index(m)].n == 0)
			continue;
		r = analyze_metric(a, m);
		if (r < 0)
			return r;
	}
	return mw_hypotheses_eval(a);
}

static int analyze_store(struct mw_store *s, int64_t proc_id, int64_t since_ms, int64_t until_ms,
                         struct mw_analysis *a)
{
	int r;

	a->proc_id = proc_id;
	a->since_ms = since_ms;
	a->until_ms = until_ms;
	r = mw_store_proc_series(s, proc_id, since_ms, until_ms, &a->proc);
	if (r < 0)
		return r;
	if (a->proc.n == 0)
		return -ENODATA;
	a->from_ms = a->proc.t_ms[0];
	a->to_ms = a->proc.t_ms[a->proc.n - 1];
	a->interval_ms = mw_store_interval_ms(s, since_ms, until_ms);
	r = load_regions(s, a);
	if (r < 0)
		return r;
	load_context(s, a);
	return analysis_run(a);
}

int mw_analyze_process(struct mw_store *s, int64_t proc_id, int64_t since_ms, int64_t until_ms,
                       struct mw_analysis *out)
{
	analysis_init(out);
	return analyze_store(s, proc_id, since_ms, until_ms, out);
}

int mw_analyze_series(struct mw_series *proc, int64_t interval_ms,
                      const struct mw_proc_context *ctx, struct mw_analysis *out)
{
	analysis_init(out);
	out->pid = ctx->pid;
	out->exit_ms = ctx->exit_ms;
	out->proc = *proc;
	memset(proc, 0, sizeof(*proc));
	out->interval_ms = interval_ms > 0 ? interval_ms : 1000;
	if (out->proc.n) {
		out->since_ms = out->proc.t_ms[0];
		out->until_ms = out->proc.t_ms[out->proc.n - 1];
	}
	out->mem_available = ctx->mem_available;
	set_cgroup_limit(out, &ctx->memcg);
	snprintf(out->bpf_state, sizeof(out->bpf_state),
	         "off: not recorded (live sampling by this command)");
	return analysis_run(out);
}

void mw_analysis_release(struct mw_analysis *a)
{
	mw_callsite_evidence_free(a->callsite_lines, a->ncallsite_lines);
	a->callsite_lines = NULL;
	a->ncallsite_lines = 0;
	mw_series_release(&a->proc);
	mw_region_series_release(&a->reg);
	for (int i = 0; i < 2; i++)
		mw_ipc_series_release(&a->ipc[i]);
	for (int m = 0; m < MW_AM_COUNT; m++) {
		free(a->m[m].grid_t);
		free(a->m[m].grid_y);
		a->m[m].grid_t = a->m[m].grid_y = NULL;
	}
}

int mw_top_hypothesis_tag(struct mw_store *s, int64_t proc_id, int64_t until_ms, char *tag,
                          size_t cap, double *score)
{
	struct mw_analysis *a = malloc(sizeof(*a));
	int r;

	if (!a)
		return -ENOMEM;
	analysis_init(a);
	a->nwindows = 1;
	a->max_points = 60;
	r = analyze_store(s, proc_id, until_ms - mw_analysis_windows_s[0] * 1000, until_ms, a);
	if (cap)
		tag[0] = '\0';
	if (score)
		*score = 0;
	if (r == 0 && a->nhyp && a->hyp[0].score >= MW_HYP_THRESHOLD) {
		snprintf(tag, cap, "%s", a->hyp[0].rule->tag);
		if (score)
			*score = a->hyp[0].score;
	}
	mw_analysis_release(a);
	free(a);
	return r == -ENODATA ? 0 : r;
}
