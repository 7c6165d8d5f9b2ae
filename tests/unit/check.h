/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Minimal unit-test harness: each tests/test_<module>.c is one executable
 * run by `meson test`. CHECK* record a failure and go on, so one run shows
 * every broken assertion; check_done() turns the count into the exit code.
 * Exit 77 means skipped (meson's convention); mw_skip() prints the reason.
 */
#ifndef MEMWATCH_TESTS_CHECK_H
#define MEMWATCH_TESTS_CHECK_H

#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int check_failures;
static int check_count;

#define CHECK(cond)                                                                                \
	do {                                                                                       \
		check_count++;                                                                     \
		if (!(cond)) {                                                                     \
			check_failures++;                                                          \
			fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond);   \
		}                                                                                  \
	} while (0)

#define CHECK_EQ_I64(a, b)                                                                         \
	do {                                                                                       \
		int64_t check_a_ = (int64_t)(a), check_b_ = (int64_t)(b);                          \
		check_count++;                                                                     \
		if (check_a_ != check_b_) {                                                        \
			check_failures++;                                                          \
			fprintf(stderr, "%s:%d: %s == %s failed: %" PRId64 " != %" PRId64 "\n",    \
			        __FILE__, __LINE__, #a, #b, check_a_, check_b_);                   \
		}                                                                                  \
	} while (0)

#define CHECK_EQ_STR(a, b)                                                                         \
	do {                                                                                       \
		const char *check_a_ = (a), *check_b_ = (b);                                       \
		check_count++;                                                                     \
		if (!check_a_ || !check_b_ || strcmp(check_a_, check_b_) != 0) {                   \
			check_failures++;                                                          \
			fprintf(stderr, "%s:%d: %s == %s failed: \"%s\" != \"%s\"\n", __FILE__,    \
			        __LINE__, #a, #b, check_a_ ? check_a_ : "(null)",                  \
			        check_b_ ? check_b_ : "(null)");                                   \
		}                                                                                  \
	} while (0)

#define CHECK_NEAR(a, b, tol)                                                                      \
	do {                                                                                       \
		double check_a_ = (double)(a), check_b_ = (double)(b);                             \
		check_count++;                                                                     \
		if (!(check_a_ - check_b_ <= (tol) && check_b_ - check_a_ <= (tol))) {             \
			check_failures++;                                                          \
			fprintf(stderr, "%s:%d: %s ~= %s failed: %.9g vs %.9g (tol %.3g)\n",       \
			        __FILE__, __LINE__, #a, #b, check_a_, check_b_, (double)(tol));    \
		}                                                                                  \
	} while (0)

static inline void mw_skip(const char *why)
{
	printf("SKIP: %s\n", why);
	exit(77);
}

static inline int check_done(void)
{
	printf("%d checks, %d failed\n", check_count, check_failures);
	return check_failures ? 1 : 0;
}

#endif
