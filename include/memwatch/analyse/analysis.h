/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Per-process analysis on read: the recorded step series (process rows,
 * region and fd-kind rows, eBPF counters) become per-metric trends over
 * several windows, then ranked leak hypotheses (hypothesis.h).
 *
 * Step series are resampled onto a regular grid before any statistic:
 * rows are stored only when something changed, so a flat stretch is one
 * row and a busy one many; on raw rows a busy minute would outvote a
 * quiet hour.
 */
#ifndef MEMWATCH_ANALYSIS_H
#define MEMWATCH_ANALYSIS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "memwatch/store/bpfdata.h"
#include "memwatch/analyse/hypothesis.h"
#include "memwatch/store/procread.h"
#include "memwatch/store/regionstore.h"
#include "memwatch/store/store.h"
#include "memwatch/analyse/trend.h"

/* Nominal windows, shortest first: 5 min, 1 h, 24 h. */
#define MW_ANALYSIS_NWINDOWS 3
extern const int64_t mw_analysis_windows_s[MW_ANALYSIS_NWINDOWS];

/* Grid points per window at most (the grid step grows with the window). */
#define MW_ANALYSIS_MAX_POINTS 240

/*
 * X(name, kind, source, label): the metrics analysis reads. kind 'b'
 * bytes, 'n' a count. source P = process row, R = region row, F = fd
 * kinds row, Q = message queues the process created (the system module's
 * ipc_objects/ipc_samples tables, when the store has them).
 */
#define MW_AMETRICS(X)                                                                             \
	X(rss, 'b', 'P', "RSS")                                                                    \
	X(rss_anon, 'b', 'P', "RssAnon")                                                           \
	X(rss_file, 'b', 'P', "RssFile")                                                           \
	X(rss_shmem, 'b', 'P', "RssShmem")                                                         \
	X(swap, 'b', 'P', "VmSwap")                                                                \
	X(vm_stack, 'b', 'P', "VmStk")                                                             \
	X(vm_data, 'b', 'P', "VmData")                                                             \
	X(pte, 'b', 'P', "VmPTE")                                                                  \
	X(threads, 'n', 'P', "Threads")                                                            \
	X(fds, 'n', 'P', "open fds")                                                               \
	X(heap, 'b', 'R', "[heap] RSS")                                                            \
	X(anon, 'b', 'R', "anon mmap RSS (incl. malloc arenas)")                                   \
	X(anon_maps, 'n', 'R', "anon mappings")                                                    \
	X(thread_stacks, 'b', 'R', "thread stacks size")                                           \
	X(thread_stack_maps, 'n', 'R', "thread stack mappings")                                    \
	X(main_stack, 'b', 'R', "[stack] RSS")                                                     \
	X(file, 'b', 'R', "file mappings RSS")                                                     \
	X(file_maps, 'n', 'R', "file mappings")                                                    \
	X(so_files, 'n', 'R', "shared objects mapped")                                             \
	X(shm, 'b', 'R', "shared memory RSS (SysV, /dev/shm, anon, memfd)")                        \
	X(fd_socket, 'n', 'F', "socket fds")                                                       \
	X(fd_pipe, 'n', 'F', "pipe fds")                                                           \
	X(fd_file, 'n', 'F', "file fds")                                                           \
	X(fd_other, 'n', 'F', "eventfd/anon-inode/other fds")                                      \
	X(ipc_queue_bytes, 'b', 'Q', "bytes queued in message queues it created")                  \
	X(ipc_shm_orphan_bytes, 'b', 'Q', "shared memory it created, not attached")

#define MW_X_ENUM_AM(name, kind, src, label) MW_AM_##name,
enum mw_ametric { MW_AMETRICS(MW_X_ENUM_AM) MW_AM_COUNT, MW_AM_NONE = -1 };

extern const char *const mw_ametric_names[MW_AM_COUNT];
extern const char *const mw_ametric_labels[MW_AM_COUNT];
extern const char mw_ametric_kinds[MW_AM_COUNT];

/* One metric's statistics over one window, computed on the regular grid. */
struct mw_metric_window {
	bool valid; /* at least 3 grid points (rows are change-only, so the step function is exact)
	             */
	int64_t window_s;       /* nominal window */
	int64_t from_ms, to_ms; /* the stretch the data actually covers */
	double step_s;          /* grid step */
	/*
	 * The shortest time between two samples behind the grid: the slow
	 * tier's interval for region metrics (a staircase shows no plateau
	 * shorter than its steps).
	 */
	double sample_s;
	struct mw_trend tr; /* slope units per second */
	double slope_per_h, floor_slope_per_h;
	double min, max;
	double rise, fall; /* sums of the grid's upward and downward steps */
	double plateau_s;  /* time since the metric last set a new high (beyond noise) */
	/*
	 * Region byte metrics: the fixed size of its mappings when neither
	 * their size nor their count changed over the window while RSS rose
	 * (warming up, bounded by that size); NAN otherwise.
	 */
	double bound;
};

struct mw_metric_analysis {
	bool available; /* the source recorded this metric in the window */
	struct mw_metric_window w[MW_ANALYSIS_NWINDOWS];
	/* The grid of the widest valid window, for sparklines and charts. */
	size_t grid_n;
	double *grid_t; /* seconds since the Unix epoch */
	double *grid_y;
};

struct mw_analysis {
	int64_t proc_id;
	pid_t pid;
	int64_t since_ms, until_ms; /* as asked */
	int64_t from_ms, to_ms;     /* covered by process samples */
	int64_t interval_ms;        /* sampling interval of the source */
	int64_t exit_ms;            /* when it was seen gone (by until_ms); MW_UNKNOWN if alive */
	bool have_regions, have_fd_kinds;
	bool recorder;               /* the memwatchd that recorded the store (meta writer_pid) */
	struct mw_series proc;       /* owned */
	struct mw_region_series reg; /* owned; n == 0 without region data */
	struct mw_metric_analysis m[MW_AM_COUNT];
	struct mw_bpf_proc_evidence bpf;
	char bpf_state[256];
	char bpf_missing[2048]; /* mw_store_bpf_missing */
	char bpf_gaps[1024];    /* mw_store_bpf_gaps */
	/* Memory the process can still take: MemAvailable, or its cgroup's headroom. */
	int64_t mem_available;              /* bytes; MW_UNKNOWN */
	int64_t cgroup_limit, cgroup_usage; /* bytes; MW_UNKNOWN when unlimited/unknown */
	char cgroup_path[1024];             /* the limiting cgroup, when there is one */
	int64_t oom_score, oom_adj;
	struct mw_proc_limits limits; /* as last recorded (proc_limits); MW_UNKNOWN = none */
	bool ipc_tables;              /* the store has IPC object samples */
	/*
	 * Step series of the IPC objects the process created, from the system
	 * module's tables: [0] bytes queued in its message queues, [1] size of
	 * its shared memory nobody has attached (SysV nattch 0, POSIX objects).
	 */
	struct mw_ipc_series ipc[2];
	/* Call sites holding its anonymous mappings (lib/callsite.c); owned, n 0 without. */
	char **callsite_lines;
	size_t ncallsite_lines;
	size_t nhyp;
	struct mw_hypothesis hyp[MW_HYP_MAX]; /* ranked, best first; all, even below threshold */
	int nwindows;                         /* windows evaluated (tests and the TUI use fewer) */
	int max_points;
};

/*
 * Everything for one process over [since_ms, until_ms] from the store:
 * series, trends, hypotheses. root is "" for the live /proc and /sys
 * (cgroup limits). out must be released with mw_analysis_release.
 */
int mw_analyze_process(struct mw_store *s, int64_t proc_id, int64_t since_ms, int64_t until_ms,
                       struct mw_analysis *out);

/*
 * The same from series the caller already has (live sampling: no store).
 * Takes ownership of *proc (zeroed on return). ctx is what the caller
 * read of the machine (free memory, the binding cgroup limit): the
 * analysis itself never reads the live machine.
 */
int mw_analyze_series(struct mw_series *proc, int64_t interval_ms,
                      const struct mw_proc_context *ctx, struct mw_analysis *out);

void mw_analysis_release(struct mw_analysis *a);

/*
 * Cheap entry for views that show one tag per process (memwatch top):
 * the shortest window only, a coarse grid. Writes the top hypothesis's
 * tag ("HEAP", "THREADS", ...) scoring at least MW_HYP_THRESHOLD, or ""
 * when none does; *score may be NULL.
 */
int mw_top_hypothesis_tag(struct mw_store *s, int64_t proc_id, int64_t until_ms, char *tag,
                          size_t cap, double *score);

#endif
