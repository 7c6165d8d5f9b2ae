/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The result of analyse/trend.h's statistics, as a plain type: the store's
 * readers fill structs that carry one (filled in by analysis afterwards),
 * and the store may not include analysis headers.
 */
#ifndef MEMWATCH_TREND_TYPES_H
#define MEMWATCH_TREND_TYPES_H

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

#endif
