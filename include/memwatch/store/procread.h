/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * What the analysis of one process reads from the store besides its
 * series: the sampling interval, the IPC objects it created, and the
 * context a forecast needs (free memory and the binding memory-cgroup
 * limit, both as recorded).
 */
#ifndef MEMWATCH_STORE_PROCREAD_H
#define MEMWATCH_STORE_PROCREAD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "memwatch/collect/cgroup.h"
#include "memwatch/store/store.h"

/* A step series: each value holds until the next time. */
struct mw_ipc_series {
	size_t n;
	int64_t *t_ms; /* owned */
	int64_t *v;    /* owned */
};

void mw_ipc_series_release(struct mw_ipc_series *sr);

/* Does the store have this table (older or partial schemas may not)? */
bool mw_store_has_table(struct mw_store *s, const char *name);
/* Whether table has column (a file written by an older memwatch, never migrated, may not). */
bool mw_store_has_column(struct mw_store *s, const char *table, const char *column);

/* The daemon's tick interval over [since, until]: span / (ticks - 1); 5000 when unknown. */
int64_t mw_store_interval_ms(struct mw_store *s, int64_t since_ms, int64_t until_ms);

/*
 * Step series over the IPC objects process proc_id created, [0] bytes
 * queued in its message queues, [1] its shared memory nobody has attached
 * (SysV nattch 0, POSIX objects), each object's value carried forward
 * until it is removed, and to to_ms. Both n 0 without IPC tables.
 */
int mw_store_ipc_series(struct mw_store *s, int64_t proc_id, int64_t since_ms, int64_t until_ms,
                        int64_t to_ms, struct mw_ipc_series out[2]);

struct mw_proc_context {
	pid_t pid;
	int64_t mem_available;        /* bytes at until_ms; MW_UNKNOWN */
	struct mw_cgroup_limit memcg; /* as recorded at until_ms; limit MW_UNKNOWN when none */
	int64_t exit_ms; /* seen gone at this tick, at or before until_ms; MW_UNKNOWN */
};

int mw_store_proc_context(struct mw_store *s, int64_t proc_id, int64_t until_ms,
                          struct mw_proc_context *out);

/*
 * The binding memory-cgroup limit recorded for a /proc/PID/cgroup text
 * at or before until_ms. -ENOENT (limit MW_UNKNOWN) when none was.
 */
int mw_store_memcg_at(struct mw_store *s, const char *cgroup_text, int64_t until_ms,
                      struct mw_cgroup_limit *out);

/* The same for the process proc_id (its procs.cgroup text). */
int mw_store_memcg_of_proc(struct mw_store *s, int64_t proc_id, int64_t until_ms,
                           struct mw_cgroup_limit *out);

#endif
