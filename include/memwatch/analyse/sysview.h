/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The machine over a window, as the system report, `memwatch ipc` and
 * `memwatch oom` read it: system series, slab caches ranked by growth,
 * IPC objects with their creators, reclaim state and tunables, and the
 * processes' fd/thread series (for correlation). Gathered from the store
 * when it covers the window, or sampled live by the command itself.
 */
#ifndef MEMWATCH_SYSVIEW_H
#define MEMWATCH_SYSVIEW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "memwatch/collect/ipc.h"
#include "memwatch/collect/proc.h"
#include "memwatch/collect/slab.h"
#include "memwatch/store/store.h"
#include "memwatch/collect/sysmem.h"
#include "memwatch/analyse/trend.h"
#include "memwatch/collect/vmtune.h"

enum mw_sysview_source { MW_SYSVIEW_STORE, MW_SYSVIEW_LIVE };

struct mw_slab_view {
	char name[MW_SLAB_NAME_MAX];
	char aliases[512];
	int64_t objsize, bytes_now, objs_now;
	size_t n;
	int64_t *t_ms;
	double *bytes, *objs;
	struct mw_trend tr; /* bytes over seconds */
	bool growing;       /* rising, significant, not a sawtooth */
};

struct mw_ipc_view {
	struct mw_ipc_obj o; /* current values */
	int64_t db_id;       /* ipc_objects.id; 0 when live */
	int64_t first_ms;    /* first seen */
	/* creator (SysV shm cpid) joined to the process table */
	bool creator_known, creator_alive;
	char creator_comm[MW_COMM_MAX];
	/* last sender (msg lspid) */
	bool writer_known;
	char writer_comm[MW_COMM_MAX];
	/* POSIX objects: processes holding them open (live scan) */
	struct mw_ipc_holder holders[4];
	int nholders;
	size_t n;
	int64_t *t_ms;
	double *bytes;
	struct mw_trend tr;
	bool orphan; /* shm with no attachment and its creator gone or detached */
};

struct mw_proc_view {
	pid_t pid;
	uint64_t start_ticks;
	int64_t db_id;
	char comm[MW_COMM_MAX];
	char *cgroup;
	int64_t now[MW_PM_COUNT];
	size_t n;
	int64_t *t_ms;
	double *fds, *threads, *rss;
};

struct mw_sysview {
	enum mw_sysview_source source;
	char note[512];
	int64_t from_ms, to_ms;
	/* system series */
	size_t n;
	int64_t *t_ms;
	struct mw_sys_sample *sys;
	/* slab */
	bool slab_ok;
	char slab_why[128];
	size_t nslab;
	struct mw_slab_view *slab; /* sorted: growing first, by slope */
	/* ipc */
	bool ipc_ok;
	char ipc_note[256];
	size_t nipc;
	struct mw_ipc_view *ipc;
	/* reclaim */
	struct mw_tunables tun;
	struct mw_zone_set zones;
	int numa_nodes;
	/* processes alive at the end */
	size_t nproc;
	struct mw_proc_view *procs;
};

/* Which parts to gather (the ipc and oom commands need less). */
enum { MW_SV_SLAB = 1, MW_SV_IPC = 2, MW_SV_PROCS = 4, MW_SV_ALL = 7 };

/* From the store over [since_ms, until_ms]; -ENODATA when it has no tick there. */
int mw_sysview_from_store(struct mw_store *s, const char *root, int64_t since_ms, int64_t until_ms,
                          int parts, struct mw_sysview *v);

/* Sample root every interval_ns for duration_ns (at least two samples). */
int mw_sysview_from_live(const char *root, uint64_t duration_ns, uint64_t interval_ns, int parts,
                         struct mw_sysview *v);

void mw_sysview_release(struct mw_sysview *v);

/* A slab cache rises: slope > 0, Mann–Kendall p < 0.05, floor not falling, >= 1 MiB grown. */
#define MW_SLAB_MIN_GROWTH (1 << 20)

/* Spearman rank correlation of y against x sampled at the same times; NAN when undefined. */
double mw_rank_correlation(const double *x, const double *y, size_t n);

/* A step series' value at t (the last point at or before t); NAN before the first. */
double mw_step_at(const int64_t *t_ms, const double *v, size_t n, int64_t t);

#endif
