/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The always-on eBPF monitor: loads the programs of bpf/ (one skeleton), attaches
 * what this kernel supports, and hands back per-process snapshots
 * (iter/task), mapping lists (iter/task_vma) and events (one ring
 * buffer). Writes nothing to the store: daemon/src_bpf.c does.
 *
 * Built without eBPF (MW_HAVE_BPF 0), mw_bpfmon_open returns -EOPNOTSUPP.
 */
#ifndef MEMWATCH_BPFMON_H
#define MEMWATCH_BPFMON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "mwbpf.h"

struct mw_bpfmon_options {
	uint64_t stack_window;  /* bytes below start_stack counted as main stack; 0: RLIMIT_STACK */
	uint64_t rss_threshold; /* bytes an RSS counter moves before it is recorded */
	double rss_rate;        /* RSS-movement records per second per process (0: no limit) */
	double rss_burst;       /* ... and at most this many at once */
	uint32_t ringbuf_bytes; /* power of two, >= page size */
	uint32_t mappings_max;  /* entries of the snapshotted-mapping LRU map */
	/*
	 * Keep kernel run-time statistics on for the whole run. Off, the
	 * caller samples them with mw_bpfmon_stats_enable: on this VM the two
	 * clock reads per program run cost ~10 % of a page fault.
	 */
	bool stats_always;
	/*
	 * Also attach tp_btf/rss_stat, which sees every RSS change of every
	 * mm (reclaim in kswapd included). Off by default: it is a second
	 * program run on every page fault, and the fault program already
	 * records growth past the threshold.
	 */
	bool rss_stat_hook;
	/* Hooks not to load, by name ("page_fault_user, task_vma"): MEMWATCH_BPF_OFF. */
	const char *disable;
	/*
	 * The variant whose fault program reaches the owner through mm->owner
	 * (MEMWATCH_BPF_VARIANT=owner-pointer): refused by kernels whose BTF
	 * has no type tags; for testing that a refusal is reported.
	 */
	bool owner_pointer;
	/* What the programs need to know of the kernel: mw_bpfmon_open reads its BTF. */
	struct {
		bool has_task_from_pid;
		uint32_t rss_off[MW_RSS_COUNT], rss_ctr_off[MW_RSS_COUNT];
	} kernel;
};

void mw_bpfmon_options_default(struct mw_bpfmon_options *o);

struct mw_bpfmon;

/*
 * Load and attach. Programs the kernel refuses are left out (see
 * mw_bpfmon_programs). Fails (-EPERM, -EOPNOTSUPP, ...) only when nothing
 * useful loads; *why then says why in words.
 */
int mw_bpfmon_open(const struct mw_bpfmon_options *o, struct mw_bpfmon **out, char *why,
                   size_t whylen);
void mw_bpfmon_close(struct mw_bpfmon *m);

/* "page_fault_user (tp_btf), ..." : what is attached. */
const char *mw_bpfmon_programs(const struct mw_bpfmon *m);

/*
 * What is not, one line each: "hook\twhy\tevidence that is missing\n"
 * ("" when every program is attached).
 */
const char *mw_bpfmon_missing(const struct mw_bpfmon *m);

/* Evidence an attached program cannot give on this kernel, in the same form. */
const char *mw_bpfmon_gaps(const struct mw_bpfmon *m);

/* Readable when the ring buffer is filling up (-1 when none). */
int mw_bpfmon_fd(const struct mw_bpfmon *m);

/* Consume every pending event; fn returns 0 to go on. Returns the number consumed or -errno. */
typedef int (*mw_bpfmon_event_fn)(const struct mw_bpf_event *e, void *ctx);
int mw_bpfmon_drain(struct mw_bpfmon *m, mw_bpfmon_event_fn fn, void *ctx);

/*
 * Every user-space process (thread-group leaders), via iter/task. minflt
 * and majflt are summed over the live threads as /proc/PID/stat does.
 */
struct mw_bpf_snapshot {
	struct mw_bpf_proc *v;
	size_t n;
};

int mw_bpfmon_snapshot(struct mw_bpfmon *m, struct mw_bpf_snapshot *out);
void mw_bpf_snapshot_release(struct mw_bpf_snapshot *s);

/* The mappings of one process (pid > 0) or of all (pid 0), via iter/task_vma. Caller frees *out. */
int mw_bpfmon_vmas(struct mw_bpfmon *m, pid_t pid, struct mw_bpf_vma **out, size_t *n);

/* Kernel-side cost so far, per program, counted while statistics were on. */
struct mw_bpf_prog_stat {
	char name[48];
	uint64_t run_cnt;
	uint64_t run_time_ns;
};

int mw_bpfmon_prog_stats(struct mw_bpfmon *m, struct mw_bpf_prog_stat *out, size_t cap, size_t *n);

/*
 * Detach (paused) or re-attach the programs that run on kernel events,
 * keeping every map; for benchmarks that compare with and without them.
 */
int mw_bpfmon_pause(struct mw_bpfmon *m, bool paused);

/*
 * Turn run-time statistics on or off (sampling). Returns 0 or -errno.
 * mw_bpfmon_stats_window_ns: how long they have been on since open.
 */
int mw_bpfmon_stats_enable(struct mw_bpfmon *m, bool on);
uint64_t mw_bpfmon_stats_window_ns(const struct mw_bpfmon *m);

/*
 * Turn call-site snapshots on (stack_bytes > 0; at most MW_SNAP_STACK_MAX)
 * or off: registers and stack_bytes of user stack at each new mapping and
 * when a heap fault lands above the highest heap page faulted so far, each
 * kind at most rate_per_s a second per process with bursts of burst.
 * Returns the fd of the ring buffer map carrying struct mw_bpf_snap and
 * mw_bpf_snap_head records (owned by m), or -errno (-EOPNOTSUPP when the
 * fault or the mapping program is not attached).
 */
int mw_bpfmon_snaps(struct mw_bpfmon *m, uint32_t stack_bytes, double rate_per_s, double burst);

/* Drops and failures counted in the kernel, plus events lost in user space. */
void mw_bpfmon_counters(struct mw_bpfmon *m, struct mw_bpf_counters *out);

/* A task's start_boottime (ns) as /proc/PID/stat field 22 (clock ticks). */
uint64_t mw_bpf_start_ticks(uint64_t start_boottime_ns, long hz);

#endif
