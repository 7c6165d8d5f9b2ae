/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Stored region samples (slow tier, tables region_samples and fd_samples;
 * see docs/schema-regions.md): what memwatch/collect/region.h measured,
 * written by the daemon's regions source and read back as a step series
 * like mw_store_proc_series.
 */
#ifndef MEMWATCH_REGIONSTORE_H
#define MEMWATCH_REGIONSTORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "memwatch/collect/limits.h"
#include "memwatch/collect/region.h"

struct mw_store;

/*
 * Writer side, inside a tick transaction (the daemon's regions source):
 * one row of region_samples / fd_samples. t_ms is when smaps was read,
 * tick the transaction's tick. The caller decides when a row is due.
 */
struct mw_region_writer;
int mw_region_writer_new(struct mw_store *s, struct mw_region_writer **out);
void mw_region_writer_free(struct mw_region_writer *w);
int mw_region_write(struct mw_region_writer *w, int64_t proc_id, int64_t tick, int64_t t_ms,
                    bool full, const struct mw_regions *reg);
int mw_fd_kinds_write(struct mw_region_writer *w, int64_t proc_id, int64_t tick, int64_t t_ms,
                      bool full, const struct mw_fd_kinds *fds);

/* One row of proc_limits (a readable sample; the caller decides when one is due). */
int mw_limits_write(struct mw_region_writer *w, int64_t proc_id, int64_t tick, int64_t t_ms,
                    const struct mw_proc_limits *lim);

/*
 * The limits recorded for proc_id last at or before until_ms; 0, or
 * -ENODATA when none were (older store, or never read).
 */
int mw_store_proc_limits(struct mw_store *s, int64_t proc_id, int64_t until_ms,
                         struct mw_proc_limits *out);

struct mw_region_point {
	int64_t t_ms;
	struct mw_regions reg;
	struct mw_fd_kinds fds;
};

struct mw_region_series {
	size_t n;
	struct mw_region_point *v;
};

int mw_store_region_series(struct mw_store *s, int64_t proc_id, int64_t since_ms, int64_t until_ms,
                           struct mw_region_series *out);
void mw_region_series_release(struct mw_region_series *sr);

#endif
