/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * OOM kills as the store recorded them.
 *
 * `oom-kill` events (written by the eBPF source; detail keys victim_pid,
 * comm, total_vm, anon_rss, file_rss, shmem_rss, pgtables, oom_score_adj,
 * sizes in bytes) when there are any; otherwise each rise of the vmstat
 * oom_kill counter, matched to the process that disappeared at that tick:
 * one the kernel log names first, then the largest last RSS.
 *
 * The growth before each kill is analysis (analyse/oom.h); the cgroup
 * limits now are the caller's live reads.
 */
#ifndef MEMWATCH_STORE_OOMREAD_H
#define MEMWATCH_STORE_OOMREAD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "memwatch/collect/kmsg.h"
#include "memwatch/collect/proc.h"
#include "memwatch/store/store.h"

struct mw_oom_kill {
	int64_t t_ms;
	pid_t pid;
	char comm[MW_COMM_MAX];
	bool from_event;    /* false: inferred from the oom_kill counter */
	bool in_kernel_log; /* counter kill confirmed by "Killed process" in /dev/kmsg */
	int64_t proc_id;    /* 0 when not in the process table */
	/* memory at the kill: from the event, or the last sample */
	int64_t total_vm, anon_rss, file_rss, shmem_rss, pgtables, oom_score_adj;
	int64_t rss, swap;
	/* what grew before it */
	int64_t before_ms;            /* start of the growth window */
	int64_t rss_before, rss_last; /* at the window's start and the last sample */
	double rss_slope;             /* bytes per second, Theil–Sen; NAN when unknown */
	int64_t last_sample_ms;
	size_t npoints;
	int64_t pt_ms[32];
	int64_t pt_rss[32];
	char cgroup[256];
	int64_t cgroup_limit,
	        cgroup_usage; /* its memory cgroup at the kill, as recorded; MW_UNKNOWN */
};

struct mw_oom_history {
	size_t n;
	struct mw_oom_kill *v;
	int64_t counter_total; /* oom_kill counter rise over the window (MW_UNKNOWN without) */
	bool have_events;
};

/*
 * The kills in [since_ms, until_ms], by time, with their cgroup text.
 * kmsg (NULL for none) is the kernel log read by the caller. Left for
 * others: the growth (rss_slope NAN, rss_before and rss_last MW_UNKNOWN,
 * no points). The cgroup limits are those recorded at each kill
 * (memcg_samples), MW_UNKNOWN when none was.
 */
int mw_store_oom_history(struct mw_store *s, int64_t since_ms, int64_t until_ms,
                         const struct mw_kmsg_kills *kmsg, struct mw_oom_history *h);

void mw_oom_history_release(struct mw_oom_history *h);

#endif
