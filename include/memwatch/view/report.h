/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * memwatch report: one process's memory now and how it changed over a
 * window, from the store or from a short live sampling when there is no
 * history. Rendering (text, JSON) is separate from gathering.
 */
#ifndef MEMWATCH_REPORT_H
#define MEMWATCH_REPORT_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "memwatch/analyse/analysis.h"
#include "memwatch/collect/proc.h"
#include "memwatch/store/store.h"

enum mw_report_source {
	MW_REPORT_FROM_STORE,
	MW_REPORT_FROM_LIVE, /* sampled by the CLI itself: history is only that long */
};

struct mw_report {
	enum mw_report_source source;
	char db_path[4096];
	struct mw_proc_info proc;
	bool alive;
	int64_t from_ms, to_ms; /* the window actually covered by samples */
	struct mw_series series;
	int64_t now[MW_PM_COUNT];          /* values at the end of the window */
	int64_t delta[MW_PM_COUNT];        /* end minus start; MW_UNKNOWN when either is */
	double per_hour[MW_PM_COUNT];      /* delta over the window, per hour; NAN when unknown */
	double minflt_per_s, majflt_per_s; /* over the last minute of the window */
	char note[512];
	struct mw_analysis *an; /* trends, regions, hypotheses; NULL when analysis failed */
};

/* One line of the region table: a region and the metric that measures it. */
struct mw_report_region {
	const char *region; /* "heap", "anon", ... (JSON key and HTML data-region) */
	const char *label;
	int metric;   /* enum mw_ametric */
	bool growing; /* rate > 0 with Mann–Kendall p < 0.05 over the widest window */
	const struct mw_metric_window *w; /* widest valid window; NULL when none */
};

/*
 * The rows of the region table for this analysis: the smaps regions when
 * recorded, else the process-wide split (RssAnon/File/Shmem, VmStk, ...).
 */
size_t mw_report_regions(const struct mw_analysis *a, struct mw_report_region *rows, size_t cap);

/* The "no leak found" explanation when no hypothesis reaches the threshold. */
void mw_report_no_leak_reason(const struct mw_analysis *a, char *buf, size_t cap);

/* "on: ..." / "off (reason)" for the eBPF line. */
void mw_report_bpf_line(const struct mw_analysis *a, char *buf, size_t cap);
/*
 * The eBPF programs left out (a mw_store_bpf_missing text): one line each,
 * "<label>HOOK: EVIDENCE missing (WHY)", escaped for the terminal; or as
 * a JSON array under key.
 */
struct mw_json;
void mw_report_bpf_missing_text(FILE *f, const char *missing, const char *label, bool utf8);
void mw_report_bpf_missing_json(struct mw_json *j, const char *key, const char *missing);

/* Fill from the store for proc over [since_ms, until_ms]. */
int mw_report_from_store(struct mw_store *s, const struct mw_proc_info *proc, int64_t since_ms,
                         int64_t until_ms, struct mw_report *rep);

/*
 * Sample pid every interval_ns for duration_ns (at least two samples) and
 * fill the report from that. -ESRCH when the process is gone at the start.
 */
int mw_report_from_live(struct mw_proc_collector *c, pid_t pid, uint64_t duration_ns,
                        uint64_t interval_ns, struct mw_report *rep);

void mw_report_release(struct mw_report *rep);

void mw_report_print_text(FILE *f, const struct mw_report *rep, bool utf8);
void mw_report_print_json(FILE *f, const struct mw_report *rep);

/* The value of metric m at time t_ms in a step series (MW_UNKNOWN before the first point). */
int64_t mw_series_at(const struct mw_series *sr, int metric, int64_t t_ms);

#endif
