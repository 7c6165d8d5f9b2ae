/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The machine over a window, as the system report, `memwatch ipc` and
 * `memwatch oom` read it: system series, slab caches, IPC objects with
 * their creators, reclaim state and tunables, and the processes' fd/thread
 * series. The types, their builders (the CLI's live sampler fills them
 * too) and the store's reader; trends, rankings and orphans are analysis
 * (analyse/sysview.h).
 */
#ifndef MEMWATCH_STORE_SYSREAD_H
#define MEMWATCH_STORE_SYSREAD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "memwatch/base/trend_types.h"
#include "memwatch/collect/ipc.h"
#include "memwatch/collect/proc.h"
#include "memwatch/collect/slab.h"
#include "memwatch/collect/sysmem.h"
#include "memwatch/collect/vmtune.h"
#include "memwatch/store/store.h"

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

/*
 * From the store over [since_ms, until_ms]; -ENODATA when it has no tick
 * there. Raw: no trends, growth flags, ranking or orphans (analysis adds
 * them). The facts of the machine now are the caller's: numa_nodes is
 * left 0, and POSIX objects have no holders (nor dev/ino) until looked up
 * live.
 */
int mw_store_sysview(struct mw_store *s, int64_t since_ms, int64_t until_ms, int parts,
                     struct mw_sysview *v);

void mw_sysview_release(struct mw_sysview *v);

/* Room for element n of *arr (elem bytes each, *cap allocated); new slots are zeroed. */
int mw_sysview_grow(void **arr, size_t n, size_t *cap, size_t elem);

/*
 * Append (tv, av, bv, cv) to a series of *n points: t and the value arrays
 * a, b, c (each may be NULL) grow together, doubling from 16.
 */
int mw_sysview_series_push(size_t *n, size_t *cap, int64_t **t, double **a, double **b, double **c,
                           int64_t tv, double av, double bv, double cv);

/* Append a system sample at t to v's system series (*cap: its allocation). */
int mw_sysview_sys_push(struct mw_sysview *v, size_t *cap, int64_t t,
                        const struct mw_sys_sample *s);

#endif
