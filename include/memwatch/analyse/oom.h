/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * OOM kills and the OOM forecast.
 *
 * History: the kills the store recorded (store/oomread.h); here, the
 * victim's own series from the minutes before each says what grew.
 *
 * Forecast: the kernel's badness, points = rss + swap + page tables (in
 * pages) + oom_score_adj * totalpages / 1000, on the processes now; the
 * first is the next victim. With MemAvailable falling, the time until it
 * reaches 0 and who would be killed then, projecting each process's RSS.
 *
 * The live reads (the kernel log, cgroup limits now) are the CLI's; the
 * text and JSON output is view/oomview.h.
 */
#ifndef MEMWATCH_OOM_H
#define MEMWATCH_OOM_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "memwatch/collect/proc.h"
#include "memwatch/store/oomread.h"
#include "memwatch/store/store.h"
#include "memwatch/analyse/sysview.h"

#define MW_OOM_GROWTH_WINDOW_MS (5 * 60 * 1000)
/* A MemAvailable forecast needs this much history and this much fall (or 1 % of RAM). */
#define MW_OOM_MIN_SPAN_S 60.0
#define MW_OOM_MIN_FALL   (64.0 * 1024 * 1024)

/*
 * The growth before each kill of h: the victim's recorded RSS over the
 * MW_OOM_GROWTH_WINDOW_MS before it, its Theil–Sen slope and up to 32
 * points; the rss and swap at the kill from the last sample when h has
 * none. A kill without samples keeps them unknown.
 */
void mw_oom_history_growth(struct mw_store *s, struct mw_oom_history *h);

/*
 * mw_store_oom_history without the kernel log, then the growth. The
 * cgroup limits stay MW_UNKNOWN: they are live reads (the CLI adds them).
 */
int mw_oom_history_from_store(struct mw_store *s, int64_t since_ms, int64_t until_ms,
                              struct mw_oom_history *h);

struct mw_oom_candidate {
	pid_t pid;
	char comm[MW_COMM_MAX];
	int64_t rss, swap, pte, adj;
	int64_t kernel_score; /* /proc/PID/oom_score */
	double points;        /* badness in pages */
	int64_t score;    /* (1000 + points * 1000 / totalpages) * 2 / 3, as /proc/PID/oom_score */
	double rss_slope; /* bytes per second over the window; NAN when unknown */
	int64_t cgroup_limit, cgroup_usage; /* its memory cgroup; MW_UNKNOWN when unlimited */
	double seconds_to_limit;            /* at rss_slope, until the cgroup limit; NAN */
};

struct mw_oom_forecast {
	int64_t totalpages, page_size;
	size_t n;
	struct mw_oom_candidate *v; /* ranked, worst first; oom_score_adj -1000 left out */
	size_t exempt;              /* processes left out for -1000 */
	int64_t mem_available;
	double avail_slope;    /* bytes per second (negative = falling) */
	double avail_p;        /* Mann–Kendall p of the MemAvailable trend */
	double seconds_to_oom; /* NAN when not falling */
	long victim_at_oom;    /* index into v projected at that time; -1 */
	/* critical services that are killable */
	size_t nprotect;
	struct {
		pid_t pid;
		char comm[MW_COMM_MAX];
		int64_t adj;
	} protect[16];
};

/*
 * Rank procs (a live sweep) by badness; slopes from view (its process
 * series) when given; MemAvailable trend from view's system series. The
 * candidates' cgroup limits stay MW_UNKNOWN and seconds_to_limit NAN:
 * reading them is live (the CLI adds them).
 */
int mw_oom_forecast(const struct mw_proc_set *procs, const struct mw_sys_sample *now,
                    const struct mw_sysview *view, struct mw_oom_forecast *f);
void mw_oom_forecast_release(struct mw_oom_forecast *f);

/* Is this comm a service to keep out of the OOM killer's reach (sshd, init, journald...)? */
bool mw_oom_critical_comm(const char *comm);

#endif
