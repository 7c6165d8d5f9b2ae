/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "memwatch/analyse/trend.h"
#include "memwatch/base/util.h"

#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* Beyond this many points the pairwise slopes are subsampled (O(n^2) memory otherwise). */
#define TREND_PAIR_LIMIT 4096
/* Pairs kept when subsampling: enough for a stable median, bounded memory. */
#define TREND_PAIR_SAMPLE (1u << 21)

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

/* Partially order v so that v[kth] is the kth smallest (Hoare's selection, O(n) expected). */
static void select_kth(double *v, size_t n, size_t kth)
{
	size_t lo = 0, hi = n - 1;

	while (lo < hi) {
		double pivot = v[lo + (hi - lo) / 2];
		size_t i = lo, j = hi;
		while (i <= j) {
			while (v[i] < pivot)
				i++;
			while (v[j] > pivot)
				j--;
			if (i <= j) {
				double t = v[i];
				v[i] = v[j];
				v[j] = t;
				i++;
				if (j == 0)
					break;
				j--;
			}
		}
		if (kth <= j)
			hi = j;
		else if (kth >= i)
			lo = i;
		else
			return;
	}
}

/* Median of v (reordered in place); NAN for k == 0. Selection, not a full sort. */
static double median_inplace(double *v, size_t k)
{
	double hi, lo;

	if (!k)
		return NAN;
	select_kth(v, k, k / 2);
	hi = v[k / 2];
	if (k % 2)
		return hi;
	/* The other middle value is the largest of the lower part. */
	lo = v[0];
	for (size_t i = 1; i < k / 2; i++)
		lo = v[i] > lo ? v[i] : lo;
	return (lo + hi) / 2.0;
}

/* splitmix64: a fixed-seed generator so the subsample is deterministic. */
static uint64_t splitmix64(uint64_t *state)
{
	uint64_t z = (*state += 0x9e3779b97f4a7c15ull);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static size_t all_pair_slopes(const double *t, const double *y, size_t n, double *out)
{
	size_t k = 0;
	for (size_t i = 0; i < n; i++)
		for (size_t j = i + 1; j < n; j++)
			if (t[j] > t[i]) /* equal times carry no slope information */
				out[k++] = (y[j] - y[i]) / (t[j] - t[i]);
	return k;
}

static size_t sampled_pair_slopes(const double *t, const double *y, size_t n, double *out)
{
	uint64_t state = 0x6d656d7761746368ull;
	size_t k = 0;
	for (size_t s = 0; s < TREND_PAIR_SAMPLE; s++) {
		size_t i = splitmix64(&state) % n, j = splitmix64(&state) % n;
		if (i > j) {
			size_t tmp = i;
			i = j;
			j = tmp;
		}
		if (t[j] > t[i])
			out[k++] = (y[j] - y[i]) / (t[j] - t[i]);
	}
	return k;
}

double mw_trend_theil_sen(const double *t, const double *y, size_t n)
{
	if (!t || !y || n < 2)
		return NAN;
	size_t pairs = n <= TREND_PAIR_LIMIT ? n * (n - 1) / 2 : TREND_PAIR_SAMPLE;
	double *s = malloc(pairs * sizeof(*s));
	if (!s)
		return NAN;
	size_t k = n <= TREND_PAIR_LIMIT ? all_pair_slopes(t, y, n, s)
	                                 : sampled_pair_slopes(t, y, n, s);
	double m = median_inplace(s, k);
	free(s);
	return m;
}

/* Sum over tie groups of t(t-1)(2t+5), the Mann–Kendall variance correction. */
static double tie_correction(const double *y, size_t n)
{
	double *c = malloc(n * sizeof(*c));
	double sum = 0;
	if (!c)
		return NAN;
	memcpy(c, y, n * sizeof(*c));
	mw_qsort(c, n, sizeof(*c), cmp_double);
	for (size_t i = 0; i < n;) {
		size_t j = i + 1;
		while (j < n && c[j] == c[i])
			j++;
		double g = (double)(j - i);
		if (g > 1)
			sum += g * (g - 1) * (2 * g + 5);
		i = j;
	}
	free(c);
	return sum;
}

void mw_trend_mann_kendall(const double *y, size_t n, struct mw_trend *out)
{
	out->mk_s = 0;
	out->mk_var = 0;
	out->mk_z = 0;
	out->mk_p = 1;
	if (!y || n < 3)
		return;
	long long s = 0;
	for (size_t i = 0; i < n; i++)
		for (size_t j = i + 1; j < n; j++)
			s += (y[j] > y[i]) - (y[j] < y[i]);
	double dn = (double)n;
	double var = (dn * (dn - 1) * (2 * dn + 5) - tie_correction(y, n)) / 18.0;
	out->mk_s = (double)s;
	out->mk_var = var;
	if (!(var > 0)) /* every value tied: no evidence of anything */
		return;
	/* Continuity correction: S moves in steps of 2, so shrink |S| by 1. */
	double z = s > 0 ? (s - 1) / sqrt(var) : s < 0 ? (s + 1) / sqrt(var) : 0;
	out->mk_z = z;
	out->mk_p = erfc(fabs(z) / M_SQRT2);
}

size_t mw_trend_lower_envelope(const double *y, size_t n, size_t *idx)
{
	size_t k = 0;
	if (!y || !idx || n == 0)
		return 0;
	idx[k++] = 0;
	for (size_t i = 1; i + 1 < n; i++) {
		/* A trough: reached by a fall, and not followed by a further fall. */
		if (y[i] < y[i - 1] && y[i] <= y[i + 1])
			idx[k++] = i;
	}
	if (n > 1)
		idx[k++] = n - 1;
	return k;
}

static double intercept_of(const double *t, const double *y, size_t n, double slope)
{
	double *r = malloc(n * sizeof(*r));
	if (!r)
		return NAN;
	for (size_t i = 0; i < n; i++)
		r[i] = y[i] - slope * t[i];
	double m = median_inplace(r, n);
	free(r);
	return m;
}

static int floor_trend(const double *t, const double *y, size_t n, struct mw_trend *out)
{
	size_t *idx = malloc(n * sizeof(*idx));
	double *ft = malloc(n * sizeof(*ft)), *fy = malloc(n * sizeof(*fy));
	int r = -ENOMEM;
	if (!idx || !ft || !fy)
		goto out;
	size_t k = mw_trend_lower_envelope(y, n, idx);
	for (size_t i = 0; i < k; i++) {
		ft[i] = t[idx[i]];
		fy[i] = y[idx[i]];
	}
	out->floor_n = k;
	out->floor_slope = mw_trend_theil_sen(ft, fy, k);
	r = 0;
out:
	free(idx);
	free(ft);
	free(fy);
	return r;
}

/* Median length (in t) of the runs strictly inside the series; INFINITY when there are none. */
static double interior_run_median(const double *t, const double *y, size_t n)
{
	double *len = malloc(n * sizeof(*len));
	size_t k = 0, start = 0;
	double m;

	if (!len)
		return INFINITY;
	for (size_t i = 1; i < n; i++) {
		if (y[i] == y[i - 1])
			continue;
		if (start > 0)
			len[k++] = t[i] - t[start];
		start = i;
	}
	m = k ? median_inplace(len, k) : INFINITY;
	free(len);
	return m;
}

size_t mw_trend_step_points(const double *t, const double *y, size_t n, double *ot, double *oy)
{
	double period = n ? interior_run_median(t, y, n) : INFINITY;
	double next_t = -INFINITY;
	size_t k = 0;

	for (size_t i = 0; i < n; i++) {
		bool starts = i == 0 || y[i] != y[i - 1];
		/* Inside a run longer than the usual one: the samples that found no change. */
		if (!starts && !(t[i] >= next_t) && i + 1 < n)
			continue;
		ot[k] = t[i];
		oy[k++] = y[i];
		next_t = t[i] + period;
	}
	return k;
}

int mw_trend_compute(const double *t, const double *y, size_t n, struct mw_trend *out)
{
	if (!t || !y || !out || n == 0)
		return -EINVAL;
	memset(out, 0, sizeof(*out));
	out->n = n;
	out->first = y[0];
	out->last = y[n - 1];
	out->slope = mw_trend_theil_sen(t, y, n);
	out->intercept =
	        isnan(out->slope) ? (n == 1 ? y[0] : NAN) : intercept_of(t, y, n, out->slope);
	mw_trend_mann_kendall(y, n, out);
	out->floor_slope = NAN;
	return floor_trend(t, y, n, out);
}

int mw_trend_compute_steps(const double *t, const double *y, size_t n, struct mw_trend *out)
{
	double *st = NULL, *sy = NULL;
	size_t k;
	int r = mw_trend_compute(t, y, n, out);

	if (r < 0)
		return r;
	st = malloc(n * sizeof(*st));
	sy = malloc(n * sizeof(*sy));
	r = -ENOMEM;
	if (!st || !sy)
		goto out;
	k = mw_trend_step_points(t, y, n, st, sy);
	r = 0;
	if (k < 2)
		goto out;
	out->slope = mw_trend_theil_sen(st, sy, k);
	out->intercept = intercept_of(st, sy, k, out->slope);
out:
	free(st);
	free(sy);
	return r;
}
