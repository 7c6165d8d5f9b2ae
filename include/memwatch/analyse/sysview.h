/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The machine over a window (store/sysread.h has the types): slab caches
 * ranked by growth, IPC orphans, and the rank statistics the correlation
 * rules use. Gathered from the store when it covers the window, or sampled
 * live by the command itself.
 */
#ifndef MEMWATCH_SYSVIEW_H
#define MEMWATCH_SYSVIEW_H

#include <stddef.h>
#include <stdint.h>

#include "memwatch/analyse/trend.h"
#include "memwatch/store/store.h"
#include "memwatch/store/sysread.h"

/*
 * mw_store_sysview, then mw_sysview_finish; -ENODATA when the store has no
 * tick in [since_ms, until_ms]. root is no longer used. Without the live
 * facts: numa_nodes stays 0, and no POSIX object has holders, so one with
 * data reads as orphaned; the CLI's cli_sysview_from_store adds both.
 */
int mw_sysview_from_store(struct mw_store *s, const char *root, int64_t since_ms, int64_t until_ms,
                          int parts, struct mw_sysview *v);

/*
 * What a reader leaves to analysis: each slab cache's and IPC object's
 * trend, which caches grow (ranked first, by slope), which shared memory
 * is orphaned.
 */
void mw_sysview_finish(struct mw_sysview *v);

/* A slab cache rises: slope > 0, Mann–Kendall p < 0.05, floor not falling, >= 1 MiB grown. */
#define MW_SLAB_MIN_GROWTH (1 << 20)

/* Spearman rank correlation of y against x sampled at the same times; NAN when undefined. */
double mw_rank_correlation(const double *x, const double *y, size_t n);

/* A step series' value at t (the last point at or before t); NAN before the first. */
double mw_step_at(const int64_t *t_ms, const double *v, size_t n, int64_t t);

#endif
