/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Trend statistics over irregular time series (t in seconds, y any unit):
 * Theil–Sen slope (median of pairwise slopes: robust to outliers),
 * Mann–Kendall trend test (S, variance with tie correction, normal
 * approximation two-sided p-value), and the trend of the lower envelope:
 * the floor after each drop, so a cache that fills and is evicted, or a
 * GC heap that returns to its base, reads as flat even when each fill
 * rises steeply.
 */
#ifndef MEMWATCH_TREND_H
#define MEMWATCH_TREND_H

#include <stddef.h>

struct mw_trend {
	size_t n;
	double slope;       /* Theil–Sen, units per second; NAN when n < 2 */
	double intercept;   /* median(y - slope * t) */
	double mk_s;        /* Mann–Kendall S */
	double mk_var;      /* Var(S) with tie correction */
	double mk_z;        /* continuity-corrected z */
	double mk_p;        /* two-sided p-value; 1 when n < 3 */
	double floor_slope; /* Theil–Sen slope of the lower envelope; NAN when < 2 floor points */
	size_t floor_n;     /* points in the lower envelope */
	double first, last; /* y at the ends */
};

/*
 * Compute all statistics. t must be non-decreasing. Returns 0, -EINVAL for
 * n == 0 or NULL input, -ENOMEM. O(n^2) pairwise slopes for n <= limit
 * (4096), a deterministic subsample of pairs beyond that.
 */
int mw_trend_compute(const double *t, const double *y, size_t n, struct mw_trend *out);

/* Theil–Sen slope alone. */
double mw_trend_theil_sen(const double *t, const double *y, size_t n);

/* Mann–Kendall alone: fills mk_* fields of out. */
void mw_trend_mann_kendall(const double *y, size_t n, struct mw_trend *out);

/*
 * Lower envelope: the indices of the points that are a running minimum
 * after each drop (local minima that follow a fall), always including
 * the first and last points. Writes up to n indices into idx; returns
 * how many.
 */
size_t mw_trend_lower_envelope(const double *y, size_t n, size_t *idx);

#endif
