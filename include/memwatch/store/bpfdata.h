/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * What the always-on eBPF programs recorded: the daemon's writers, and the
 * readers for analysis and reports (docs/schema-bpf.md).
 *
 * Table bpf_proc_samples (one row per process per tick, only when a
 * counter moved; values are deltas over that tick):
 *   proc, tick, faults_heap, faults_stack, faults_mmap,
 *   mmaps_anon, mmap_bytes_anon, mmaps_file, mmap_bytes_file
 */
#ifndef MEMWATCH_BPFDATA_H
#define MEMWATCH_BPFDATA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct mw_store;

/*
 * The writers run inside the daemon's tick transaction (between
 * mw_store_tick_begin and its commit or rollback) and neither begin nor
 * commit, so a failed tick takes these rows with it.
 */

/* One process's counter deltas over one tick. */
struct mw_bpf_proc_sample {
	int64_t proc; /* procs.id */
	int64_t faults_heap, faults_stack, faults_mmap;
	int64_t mmaps_anon, mmap_bytes_anon, mmaps_file, mmap_bytes_file;
};

/*
 * Rows of bpf_proc_samples for tick_id. Two samples of one process in one
 * tick (its exit and a snapshot that still saw it) add up into one row.
 */
int mw_store_bpf_add_proc_samples(struct mw_store *s, int64_t tick_id,
                                  const struct mw_bpf_proc_sample *v, size_t n);

/* One RSS movement (table bpf_rss_moves); sizes in bytes. */
struct mw_bpf_rss_move {
	int64_t t_ms; /* CLOCK_REALTIME */
	int64_t proc; /* procs.id */
	pid_t pid;
	int64_t rss_anon, rss_file, rss_shmem, swap;
};

int mw_store_bpf_add_rss_moves(struct mw_store *s, const struct mw_bpf_rss_move *v, size_t n);

struct mw_bpf_proc_evidence {
	bool available; /* eBPF counters were being recorded (the table exists and has rows) */
	int64_t faults_heap, faults_stack, faults_mmap;
	int64_t mmaps_anon, mmap_bytes_anon, mmaps_file, mmap_bytes_file;
};

/* Sums over [since_ms, until_ms]; available=false (and 0) when eBPF never recorded. */
int mw_store_bpf_proc_evidence(struct mw_store *s, int64_t proc_id, int64_t since_ms,
                               int64_t until_ms, struct mw_bpf_proc_evidence *out);

/* The daemon's eBPF state line ("on: ..." / "off: reason"), from meta key "bpf". */
int mw_store_bpf_status(struct mw_store *s, char *buf, size_t cap);
/*
 * The programs the daemon left out, one line each, "hook\twhy\tevidence\n"
 * ("" when none, or when nothing was recorded).
 */
int mw_store_bpf_missing(struct mw_store *s, char *buf, size_t cap);
/* Evidence an attached program cannot give on the recording kernel, in the same form. */
int mw_store_bpf_gaps(struct mw_store *s, char *buf, size_t cap);

/* Each line of a mw_store_bpf_missing text; fn returns 0 to go on. */
typedef int (*mw_bpf_missing_fn)(const char *hook, const char *why, const char *evidence,
                                 void *ctx);
int mw_bpf_missing_each(const char *text, mw_bpf_missing_fn fn, void *ctx);

/*
 * The kernel-side cost of the eBPF programs, summed over programs, counted
 * while run-time statistics were on (they are sampled: window_ns in all),
 * from meta key "bpf_stats" (JSON the daemon writes each tick, see
 * docs/schema-bpf.md). -ENOENT when never recorded.
 */
struct mw_bpf_cost {
	int64_t programs;
	int64_t run_cnt;
	int64_t run_time_ns;
	int64_t events_dropped; /* ring buffer full in the kernel, plus the daemon's queue overflow
	                         */
	int64_t window_ns;      /* how long run-time statistics were on */
};

int mw_store_bpf_cost(struct mw_store *s, struct mw_bpf_cost *out);

#endif
