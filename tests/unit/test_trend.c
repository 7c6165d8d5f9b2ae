/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Trend statistics against values computed by hand (arithmetic in the comments). */
#include <errno.h>
#include <math.h>

#include "check.h"
#include "memwatch/analyse/trend.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

static void test_basic(void)
{
	/*
	 * t = 0..4, y = 1 3 2 5 4. Pairwise slopes (i<j):
	 *   (0,1) 2  (0,2) 1/2  (0,3) 4/3  (0,4) 3/4
	 *   (1,2) -1 (1,3) 1    (1,4) 1/3
	 *   (2,3) 3  (2,4) 1    (3,4) -1
	 * sorted: -1 -1 1/3 1/2 3/4 | 1 1 4/3 2 3 -> median (3/4 + 1)/2 = 0.875.
	 * residuals y - 0.875 t: 1, 2.125, 0.25, 2.375, 0.5 -> median 1.
	 * Mann–Kendall signs: + + + + - + + + + - -> S = 8 - 2 = 6.
	 * Var(S) = n(n-1)(2n+5)/18 = 5*4*15/18 = 16.667 (no ties).
	 * z = (S-1)/sqrt(Var) = 5/4.08248 = 1.224745; p = erfc(z/sqrt2) = 0.220671.
	 */
	double t[] = {0, 1, 2, 3, 4}, y[] = {1, 3, 2, 5, 4};
	struct mw_trend tr;
	CHECK_EQ_I64(mw_trend_compute(t, y, N(t), &tr), 0);
	CHECK_EQ_I64(tr.n, 5);
	CHECK_NEAR(tr.slope, 0.875, 1e-12);
	CHECK_NEAR(tr.intercept, 1.0, 1e-12);
	CHECK_NEAR(tr.mk_s, 6, 0);
	CHECK_NEAR(tr.mk_var, 300.0 / 18.0, 1e-9);
	CHECK_NEAR(tr.mk_z, 1.224745, 1e-6);
	CHECK_NEAR(tr.mk_p, 0.220671, 1e-6);
	CHECK_NEAR(tr.first, 1, 0);
	CHECK_NEAR(tr.last, 4, 0);
}

static void test_ties(void)
{
	/*
	 * y = 1 2 2 3 at t = 0..3.
	 * signs: (0,1)+ (0,2)+ (0,3)+ (1,2)0 (1,3)+ (2,3)+ -> S = 5.
	 * one tie group of size 2: correction 2*1*(2*2+5) = 18.
	 * Var = (4*3*13 - 18)/18 = 138/18 = 7.6667; z = 4/sqrt(7.6667) = 1.444630;
	 * p = erfc(1.444630/sqrt2) = 0.148562.
	 * slopes: 1, 1/2, 2/3, 0, 1/2, 1 -> sorted 0 .5 .5 .667 1 1 -> (0.5 + 0.6667)/2.
	 */
	double t[] = {0, 1, 2, 3}, y[] = {1, 2, 2, 3};
	struct mw_trend tr;
	CHECK_EQ_I64(mw_trend_compute(t, y, N(t), &tr), 0);
	CHECK_NEAR(tr.mk_s, 5, 0);
	CHECK_NEAR(tr.mk_var, 138.0 / 18.0, 1e-9);
	CHECK_NEAR(tr.mk_z, 1.444630, 1e-6);
	CHECK_NEAR(tr.mk_p, 0.148562, 1e-6);
	CHECK_NEAR(tr.slope, (0.5 + 2.0 / 3.0) / 2, 1e-12);
}

static void test_small_n(void)
{
	struct mw_trend tr;
	double t2[] = {0, 10}, y2[] = {5, 25};
	/* n = 2: one slope (25-5)/10 = 2; Mann–Kendall needs n >= 3 -> p = 1. */
	CHECK_EQ_I64(mw_trend_compute(t2, y2, 2, &tr), 0);
	CHECK_NEAR(tr.slope, 2, 1e-12);
	CHECK_NEAR(tr.intercept, 5, 1e-12);
	CHECK_NEAR(tr.mk_p, 1, 0);
	CHECK_NEAR(tr.mk_s, 0, 0);
	/* n = 1: no slope at all. */
	CHECK_EQ_I64(mw_trend_compute(t2, y2, 1, &tr), 0);
	CHECK(isnan(tr.slope));
	CHECK(isnan(tr.floor_slope));
	CHECK_NEAR(tr.intercept, 5, 0);
	CHECK_NEAR(tr.mk_p, 1, 0);
	/* n = 0 and NULL are refused. */
	CHECK_EQ_I64(mw_trend_compute(t2, y2, 0, &tr), -EINVAL);
	CHECK_EQ_I64(mw_trend_compute(NULL, y2, 2, &tr), -EINVAL);
	CHECK(isnan(mw_trend_theil_sen(t2, y2, 1)));
}

static void test_constant(void)
{
	/* All ties: S = 0, Var = (6*5*17 - 6*5*17)/18 = 0 -> z = 0, p = 1; slope 0. */
	double t[] = {0, 5, 10, 15, 20, 25}, y[] = {7, 7, 7, 7, 7, 7};
	struct mw_trend tr;
	CHECK_EQ_I64(mw_trend_compute(t, y, N(t), &tr), 0);
	CHECK_NEAR(tr.slope, 0, 0);
	CHECK_NEAR(tr.intercept, 7, 0);
	CHECK_NEAR(tr.mk_s, 0, 0);
	CHECK_NEAR(tr.mk_var, 0, 1e-12);
	CHECK_NEAR(tr.mk_z, 0, 0);
	CHECK_NEAR(tr.mk_p, 1, 0);
	/* no drop: the envelope is just the two ends, flat. */
	CHECK_EQ_I64(tr.floor_n, 2);
	CHECK_NEAR(tr.floor_slope, 0, 0);
}

static void test_outlier(void)
{
	/*
	 * y = 2t for t = 0..6 except y[3] = 100. The 15 pairs without index 3
	 * all have slope 2; the 6 pairs with it: 100/3, 49, 96 (above) and
	 * -92, -45, -88/3 (below). The 11th of 21 sorted slopes is 2:
	 * Theil–Sen ignores the outlier (least squares would not).
	 */
	double t[] = {0, 1, 2, 3, 4, 5, 6}, y[] = {0, 2, 4, 100, 8, 10, 12};
	CHECK_NEAR(mw_trend_theil_sen(t, y, N(t)), 2, 1e-12);
}

static void test_sawtooth(void)
{
	/*
	 * A cache that fills and is evicted: 10 20 30 10 20 30 10 20 30 10.
	 * Troughs after a fall: indices 3 and 6, plus the ends 0 and 9:
	 * floor = 10 10 10 10 -> floor slope 0.
	 * Pairwise slopes: Theil–Sen median is 0 (checked by enumeration).
	 * MK: S = 3; ties: 10 x4 -> 4*3*13 = 156, 20 x3 and 30 x3 -> 66 each;
	 * Var = (10*9*25 - 288)/18 = 1962/18 = 109; z = 2/sqrt(109) = 0.191565.
	 */
	double y[] = {10, 20, 30, 10, 20, 30, 10, 20, 30, 10}, t[N(y)];
	for (size_t i = 0; i < N(y); i++)
		t[i] = (double)i * 60;
	struct mw_trend tr;
	size_t idx[N(y)];
	CHECK_EQ_I64(mw_trend_lower_envelope(y, N(y), idx), 4);
	CHECK_EQ_I64(idx[0], 0);
	CHECK_EQ_I64(idx[1], 3);
	CHECK_EQ_I64(idx[2], 6);
	CHECK_EQ_I64(idx[3], 9);
	CHECK_EQ_I64(mw_trend_compute(t, y, N(y), &tr), 0);
	CHECK_EQ_I64(tr.floor_n, 4);
	CHECK_NEAR(tr.floor_slope, 0, 0);
	CHECK_NEAR(tr.slope, 0, 1e-12);
	CHECK_NEAR(tr.mk_s, 3, 0);
	CHECK_NEAR(tr.mk_var, 109, 1e-9);
	CHECK_NEAR(tr.mk_z, 2 / sqrt(109), 1e-9);
	CHECK(tr.mk_p > 0.8);

	/*
	 * Ending on a peak: (10 20 30) x4. Floor points 10 at 0,3,6,9 and the
	 * last point 30 at 11: 6 zero slopes among the troughs, 4 positive to
	 * the end -> median of 10 slopes = (0 + 0)/2 = 0.
	 */
	double y2[12], t2[12];
	for (size_t i = 0; i < 12; i++) {
		y2[i] = 10.0 * (double)(i % 3 + 1);
		t2[i] = (double)i;
	}
	CHECK_EQ_I64(mw_trend_compute(t2, y2, 12, &tr), 0);
	CHECK_EQ_I64(tr.floor_n, 5);
	CHECK_NEAR(tr.floor_slope, 0, 0);
}

static void test_rising_floor(void)
{
	/*
	 * A leak under a sawtooth: 10 20 15 25 20 30 25. Troughs at 2 (15) and
	 * 4 (20) plus ends 0 (10) and 6 (25): points (0,10) (2,15) (4,20) (6,25)
	 * lie on a line of slope 2.5.
	 */
	double t[] = {0, 1, 2, 3, 4, 5, 6}, y[] = {10, 20, 15, 25, 20, 30, 25};
	struct mw_trend tr;
	CHECK_EQ_I64(mw_trend_compute(t, y, N(t), &tr), 0);
	CHECK_EQ_I64(tr.floor_n, 4);
	CHECK_NEAR(tr.floor_slope, 2.5, 1e-12);
}

static void test_irregular_time(void)
{
	/* On a line y = 2t with uneven gaps: every slope is 2, intercept 0. */
	double t[] = {0, 1, 3, 7}, y[] = {0, 2, 6, 14};
	struct mw_trend tr;
	CHECK_EQ_I64(mw_trend_compute(t, y, N(t), &tr), 0);
	CHECK_NEAR(tr.slope, 2, 1e-12);
	CHECK_NEAR(tr.intercept, 0, 1e-12);
	/*
	 * Off the line: t = 0 2 3 7, y = 0 4 3 10. Slopes: 4/2=2, 3/3=1,
	 * 10/7=1.428571, -1/1=-1, 6/5=1.2, 7/4=1.75; sorted -1 1 1.2 1.4286
	 * 1.75 2 -> (1.2 + 1.428571)/2 = 1.3142857. Index-based spacing would
	 * give a different answer, which is why t is used.
	 */
	double t2[] = {0, 2, 3, 7}, y2[] = {0, 4, 3, 10};
	CHECK_NEAR(mw_trend_theil_sen(t2, y2, 4), (1.2 + 10.0 / 7.0) / 2, 1e-12);
	/* Equal timestamps carry no slope: t = 0 0 1, y = 1 3 2 -> slopes 1, -1 -> 0. */
	double t3[] = {0, 0, 1}, y3[] = {1, 3, 2};
	CHECK_NEAR(mw_trend_theil_sen(t3, y3, 3), 0, 1e-12);
}

static void test_strong_trend(void)
{
	/*
	 * Strictly rising n = 12: S = 66, Var = 12*11*29/18 = 212.667,
	 * z = 65/14.5831 = 4.457220, p = erfc(4.457220/sqrt2) = 8.30e-6.
	 */
	double t[12], y[12];
	for (int i = 0; i < 12; i++) {
		t[i] = i * 5.0;
		y[i] = 1000.0 + 4096.0 * i;
	}
	struct mw_trend tr;
	CHECK_EQ_I64(mw_trend_compute(t, y, 12, &tr), 0);
	CHECK_NEAR(tr.mk_s, 66, 0);
	CHECK_NEAR(tr.mk_z, 65 / sqrt(12.0 * 11 * 29 / 18), 1e-9);
	CHECK(tr.mk_p < 1e-5 && tr.mk_p > 1e-6);
	CHECK_NEAR(tr.slope, 4096.0 / 5.0, 1e-9);
	CHECK_NEAR(tr.floor_slope, 4096.0 / 5.0, 1e-9);
}

static void test_large_n(void)
{
	/* Past the pairwise limit the slope comes from a subsample: still exact on a line. */
	enum { LN = 5000 };
	static double t[LN], y[LN];
	for (int i = 0; i < LN; i++) {
		t[i] = i;
		y[i] = 3.0 * i + 7;
	}
	CHECK_NEAR(mw_trend_theil_sen(t, y, LN), 3, 1e-9);
}

static int cmp_d(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

static void test_against_sorting(void)
{
	/*
	 * The median is found by selection, not sorting: compare with a full
	 * sort of every pairwise slope on pseudo-random series full of ties
	 * (values 0..4, some equal timestamps), odd and even pair counts.
	 */
	static double t[40], y[40], ref[40 * 39 / 2];
	unsigned state = 12345;
	for (int round = 0; round < 300; round++) {
		size_t n = 2 + (size_t)(round % 38), k = 0;
		double tt = 0;
		for (size_t i = 0; i < n; i++) {
			state = state * 1103515245u + 12345u;
			tt += (state >> 16) % 3; /* steps of 0, 1 or 2 */
			t[i] = tt;
			y[i] = (double)((state >> 8) % 5);
		}
		for (size_t i = 0; i < n; i++)
			for (size_t j = i + 1; j < n; j++)
				if (t[j] > t[i])
					ref[k++] = (y[j] - y[i]) / (t[j] - t[i]);
		double want = NAN;
		if (k) {
			qsort(ref, k, sizeof(ref[0]), cmp_d);
			want = k % 2 ? ref[k / 2] : (ref[k / 2 - 1] + ref[k / 2]) / 2;
		}
		double got = mw_trend_theil_sen(t, y, n);
		CHECK((isnan(want) && isnan(got)) || fabs(want - got) < 1e-12);
	}
}

/* A slow-tier sample every `every` s held on a grid of `step` s: value(k) for sample k. */
static size_t staircase(double step, double every, double end, double (*value)(int), double *t,
                        double *y)
{
	size_t n = 0;
	for (double tt = 0; tt <= end; tt += step, n++) {
		t[n] = tt;
		y[n] = value((int)(tt / every));
	}
	return n;
}

/* The heap: 128 KiB for four 20 s samples, then 19 MiB at 80 s. */
static double heap_jump(int k)
{
	return k < 4 ? 128.0 * 1024 : 19.0 * 1024 * 1024;
}

static double rise_then_flat(int k)
{
	return 1e6 * (k < 4 ? k : 4);
}

static double steady(int k)
{
	return 131072.0 + 262144.0 * k;
}

static void test_staircase(void)
{
	static double t[512], y[512], st[512], sy[512];
	struct mw_trend tr;
	size_t n;

	/*
	 * 2 s grid over 100 s: 40 points at 128 KiB, 11 at 19 MiB. Equal
	 * pairs C(40,2) + C(11,2) = 835 of 1275: the grid's median slope is 0.
	 * The samples: (0, 128K), (80, 19M) and the last point (100, 19M);
	 * slopes d/80, d/100, 0 -> median d/100.
	 */
	n = staircase(2, 20, 100, heap_jump, t, y);
	CHECK_EQ_I64(n, 51);
	CHECK_NEAR(mw_trend_theil_sen(t, y, n), 0, 0);
	CHECK_EQ_I64(mw_trend_step_points(t, y, n, st, sy), 3);
	CHECK_EQ_I64(mw_trend_compute_steps(t, y, n, &tr), 0);
	CHECK_NEAR(tr.slope, (19.0 * 1024 * 1024 - 128.0 * 1024) / 100, 1e-6);
	CHECK(tr.mk_p < 1e-6); /* significance still from the grid */

	/*
	 * A 60 s slow tier on the 5 s grid over 595 s, +256 KiB a sample:
	 * the run starts lie on a line of slope 256 KiB / 60 s; the last point
	 * (595 s, below the line) adds 10 lower slopes to the 45 on it: the
	 * 28th of 55 is still on the line.
	 */
	n = staircase(5, 60, 595, steady, t, y);
	CHECK_EQ_I64(mw_trend_step_points(t, y, n, st, sy), 11);
	CHECK_EQ_I64(mw_trend_compute_steps(t, y, n, &tr), 0);
	CHECK_NEAR(tr.slope, 262144.0 / 60, 1e-9);

	/*
	 * Rose for four samples, then flat for sixteen: interior runs are 60 s,
	 * so the flat run keeps one point a minute (240..1140 s: 16) after the
	 * 4 rising run starts. 120 of 190 pairs are flat: slope 0, as it
	 * should be (a plain run dedup would keep only 240 and 1140 s).
	 */
	n = staircase(5, 60, 1140, rise_then_flat, t, y);
	CHECK_EQ_I64(mw_trend_step_points(t, y, n, st, sy), 20);
	CHECK_EQ_I64(mw_trend_compute_steps(t, y, n, &tr), 0);
	CHECK_NEAR(tr.slope, 0, 0);

	/* Sampled on every grid point: the points come back unchanged. */
	double t2[] = {0, 1, 2, 3, 4}, y2[] = {1, 3, 2, 5, 4};
	CHECK_EQ_I64(mw_trend_step_points(t2, y2, 5, st, sy), 5);
	CHECK_EQ_I64(mw_trend_compute_steps(t2, y2, 5, &tr), 0);
	CHECK_NEAR(tr.slope, 0.875, 1e-12);
}

int main(void)
{
	test_staircase();
	test_basic();
	test_ties();
	test_small_n();
	test_constant();
	test_outlier();
	test_sawtooth();
	test_rising_floor();
	test_irregular_time();
	test_strong_trend();
	test_large_n();
	test_against_sorting();
	return check_done();
}
