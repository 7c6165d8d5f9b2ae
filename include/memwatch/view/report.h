/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * memwatch report: rendering (text, JSON) of one process's report, and
 * the pieces the HTML page and `memwatch status` share with it. The data
 * and its gathering are in analyse/procreport.h.
 */
#ifndef MEMWATCH_REPORT_H
#define MEMWATCH_REPORT_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "memwatch/analyse/procreport.h"

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

/* The "  host     NAME" header line, escaped; "(not recorded)" for "". */
void mw_report_host_text(FILE *f, const char *host, bool utf8);

void mw_report_print_text(FILE *f, const struct mw_report *rep, bool utf8);
void mw_report_print_json(FILE *f, const struct mw_report *rep);

#endif
