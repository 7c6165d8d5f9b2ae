/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Retention: raw rows for a window, per-minute and per-hour rollups
 * (min, max, last of every metric) for longer windows, and a size cap.
 *
 * Work is done in small bounded steps (one transaction each) so the daemon
 * can run one step after every tick without stalling it; freed pages go
 * back to the filesystem with incremental vacuum. docs/schema-daemon.md
 * documents the tables and the order in which data is dropped.
 */
#ifndef MEMWATCH_RETENTION_H
#define MEMWATCH_RETENTION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "memwatch/collect/proc.h"

struct mw_store;

#define MW_ROLLUP_MINUTE 60
#define MW_ROLLUP_HOUR   3600

struct mw_retention_policy {
	uint64_t raw_ns;    /* keep raw ticks this long */
	uint64_t minute_ns; /* keep per-minute rollups this long */
	uint64_t hour_ns;   /* keep per-hour rollups this long */
	uint64_t max_bytes; /* cap on the live pages of the file (0 = none) */
	uint64_t budget_ns; /* stop building rollups in a step after this long (0 = no limit) */
};

struct mw_retention_stats {
	int64_t rolled_minutes, rolled_hours; /* buckets built */
	int64_t deleted_ticks, deleted_rollups, deleted_events, deleted_procs;
	int64_t vacuumed_pages;
	int64_t used_bytes; /* live pages after the step */
	bool more;          /* work remains: call again */
};

/* Columns the store's migration adds to proc_rollups and sys_rollups. */
extern const char *const mw_rollup_proc_columns[];
extern const size_t mw_rollup_proc_ncolumns;
extern const char *const mw_rollup_sys_columns[];
extern const size_t mw_rollup_sys_ncolumns;

/* One bounded step at time now_ns (writer only, outside a tick). */
int mw_retention_step(struct mw_store *s, const struct mw_retention_policy *p, uint64_t now_ns,
                      struct mw_retention_stats *st);

/* Steps until nothing remains (for `memwatchd --prune` and tests); at most max_steps. */
int mw_retention_run(struct mw_store *s, const struct mw_retention_policy *p, uint64_t now_ns,
                     size_t max_steps, struct mw_retention_stats *total);

/*
 * A process's rollups at resolution res_s (MW_ROLLUP_MINUTE or
 * MW_ROLLUP_HOUR), ordered by bucket start. Values missing in a bucket
 * (the process did not change then) are MW_UNKNOWN: carry the previous
 * bucket's last forward. min/max are kept for rss, rss_anon and swap only
 * (MW_UNKNOWN for the others).
 */
struct mw_rollup_series {
	size_t n;
	int res_s;
	int64_t *t_ms; /* bucket start */
	int64_t *nrows;
	int64_t (*min)[MW_PM_COUNT];
	int64_t (*max)[MW_PM_COUNT];
	int64_t (*last)[MW_PM_COUNT];
};

int mw_store_proc_rollup_series(struct mw_store *s, int64_t proc_id, int res_s, int64_t since_ms,
                                int64_t until_ms, struct mw_rollup_series *out);
void mw_rollup_series_release(struct mw_rollup_series *r);

/*
 * The hook for long windows (report --since 30d): a step series like
 * mw_store_proc_series, where the part older than the first raw tick
 * comes from rollups (hourly when the span exceeds 7 days, else
 * per-minute; their `last` values) and the rest from raw rows.
 */
struct mw_series;
int mw_store_proc_series_long(struct mw_store *s, int64_t proc_id, int64_t since_ms,
                              int64_t until_ms, struct mw_series *out);

#endif
