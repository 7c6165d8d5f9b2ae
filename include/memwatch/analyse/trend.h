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

#include "memwatch/base/trend_types.h"

/*
 * Compute all statistics. t must be non-decreasing. Returns 0, -EINVAL for
 * n == 0 or NULL input, -ENOMEM. O(n^2) pairwise slopes for n <= limit
 * (4096), a deterministic subsample of pairs beyond that.
 */
int mw_trend_compute(const double *t, const double *y, size_t n, struct mw_trend *out);

/*
 * The same for a step function forward-filled onto a grid (a slow tier
 * sampled less often than the grid, stored only when it changed): every
 * statistic on the grid except the slope and intercept, which are fitted
 * on mw_trend_step_points. On the grid most pairs of a staircase are
 * equal, so the median pairwise slope of a region that rose 150x is 0.
 */
int mw_trend_compute_steps(const double *t, const double *y, size_t n, struct mw_trend *out);

/*
 * The points of a staircase that were samples, as far as the grid tells:
 * the first point of each run of equal values, inside a run longer than
 * the median interior run one point per that median (samples that found
 * no change), and the last point. A series sampled on every grid point
 * comes back unchanged. ot and oy hold n; returns how many were written.
 */
size_t mw_trend_step_points(const double *t, const double *y, size_t n, double *ot, double *oy);

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
