/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "memwatch/analyse/sysview.h"
#include "memwatch/base/util.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

double mw_step_at(const int64_t *t_ms, const double *v, size_t n, int64_t t)
{
	double r = NAN;

	for (size_t i = 0; i < n && t_ms[i] <= t; i++)
		r = v[i];
	return r;
}

static void ranks(const double *x, size_t n, double *rk)
{
	for (size_t i = 0; i < n; i++) {
		double less = 0, eq = 0;
		for (size_t j = 0; j < n; j++) {
			if (x[j] < x[i])
				less++;
			else if (x[j] == x[i])
				eq++;
		}
		rk[i] = less + (eq + 1) / 2.0;
	}
}

double mw_rank_correlation(const double *x, const double *y, size_t n)
{
	double *rx, *ry, mx = 0, my = 0, sxy = 0, sxx = 0, syy = 0, r = NAN;

	if (n < 3)
		return NAN;
	rx = malloc(n * sizeof(*rx));
	ry = malloc(n * sizeof(*ry));
	if (!rx || !ry)
		goto out;
	ranks(x, n, rx);
	ranks(y, n, ry);
	for (size_t i = 0; i < n; i++) {
		mx += rx[i];
		my += ry[i];
	}
	mx /= (double)n;
	my /= (double)n;
	for (size_t i = 0; i < n; i++) {
		sxy += (rx[i] - mx) * (ry[i] - my);
		sxx += (rx[i] - mx) * (rx[i] - mx);
		syy += (ry[i] - my) * (ry[i] - my);
	}
	if (sxx > 0 && syy > 0)
		r = sxy / sqrt(sxx * syy);
out:
	free(rx);
	free(ry);
	return r;
}

static void trend_of(const int64_t *t_ms, const double *y, size_t n, struct mw_trend *tr)
{
	double *t;

	memset(tr, 0, sizeof(*tr));
	tr->slope = tr->floor_slope = NAN;
	tr->mk_p = 1;
	if (n == 0)
		return;
	t = malloc(n * sizeof(*t));
	if (!t)
		return;
	for (size_t i = 0; i < n; i++)
		t[i] = (double)(t_ms[i] - t_ms[0]) / 1000.0;
	if (mw_trend_compute(t, y, n, tr) < 0) {
		tr->slope = tr->floor_slope = NAN;
		tr->mk_p = 1;
	}
	free(t);
}

static bool slab_growing(const struct mw_slab_view *c)
{
	const struct mw_trend *tr = &c->tr;

	return c->n >= 3 && tr->slope > 0 && tr->mk_p < 0.05 && tr->mk_s > 0 &&
	       !(tr->floor_slope < 0) && tr->last - tr->first >= MW_SLAB_MIN_GROWTH;
}

static int cmp_slab(const void *pa, const void *pb)
{
	const struct mw_slab_view *a = pa, *b = pb;
	double sa = a->growing ? a->tr.slope : -1, sb = b->growing ? b->tr.slope : -1;

	if (sa != sb)
		return sa > sb ? -1 : 1;
	return a->bytes_now > b->bytes_now ? -1 : a->bytes_now < b->bytes_now;
}

static void finish_slab(struct mw_sysview *v)
{
	for (size_t i = 0; i < v->nslab; i++) {
		struct mw_slab_view *c = &v->slab[i];
		trend_of(c->t_ms, c->bytes, c->n, &c->tr);
		c->growing = slab_growing(c);
	}
	mw_qsort(v->slab, v->nslab, sizeof(*v->slab), cmp_slab);
}

/* shm with nobody attached whose creator is gone or no longer attached. */
static void finish_ipc(struct mw_sysview *v)
{
	for (size_t i = 0; i < v->nipc; i++) {
		struct mw_ipc_view *o = &v->ipc[i];
		trend_of(o->t_ms, o->bytes, o->n, &o->tr);
		if (o->o.kind == MW_IPC_shm)
			o->orphan = o->o.nattch == 0;
		else if (o->o.kind == MW_IPC_posix_shm)
			o->orphan = o->nholders == 0 && o->o.size > 0;
	}
}

void mw_sysview_finish(struct mw_sysview *v)
{
	finish_slab(v);
	finish_ipc(v);
}

int mw_sysview_from_store(struct mw_store *s, const char *root MW_UNUSED, int64_t since_ms,
                          int64_t until_ms, int parts, struct mw_sysview *v)
{
	int r = mw_store_sysview(s, since_ms, until_ms, parts, v);

	if (r < 0)
		return r;
	mw_sysview_finish(v);
	return 0;
}
