/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * One process's memory now and how it changed over a window: the data
 * behind `memwatch report <pid>` and the top detail panel. Filled from the
 * store here; when the CLI samples live (cli/report_live.c) it fills the
 * series itself and has mw_report_summarize derive the window figures.
 * Rendering is in view/report.h.
 */
#ifndef MEMWATCH_PROCREPORT_H
#define MEMWATCH_PROCREPORT_H

#include <stdbool.h>
#include <stdint.h>

#include "memwatch/analyse/analysis.h"
#include "memwatch/analyse/runtime.h"
#include "memwatch/collect/proc.h"
#include "memwatch/collect/region.h"
#include "memwatch/store/store.h"

enum mw_report_source {
	MW_REPORT_FROM_STORE,
	MW_REPORT_FROM_LIVE, /* sampled by the CLI itself: history is only that long */
};

/* PSS and USS (smaps): the latest reading and the first in the window. */
struct mw_report_pss {
	bool valid;                  /* a reading exists; else every figure is MW_UNKNOWN */
	int64_t t_ms, first_ms;      /* when the latest / the first reading was taken */
	int64_t now[MW_PSS_COUNT];   /* bytes (enum mw_pss_field) */
	int64_t first[MW_PSS_COUNT]; /* MW_UNKNOWN when only one reading */
};

struct mw_report {
	enum mw_report_source source;
	char db_path[4096];
	char db_from[64]; /* how the CLI chose db_path: "--db", "$MEMWATCH_DB", ... */
	char host[256];   /* the recording host's name (raw bytes); "" when unknown */
	struct mw_proc_info proc;
	bool alive;
	int64_t from_ms, to_ms; /* the window actually covered by samples */
	struct mw_series series;
	int64_t now[MW_PM_COUNT];          /* values at the end of the window */
	int64_t delta[MW_PM_COUNT];        /* end minus start; MW_UNKNOWN when either is */
	double per_hour[MW_PM_COUNT];      /* delta over the window, per hour; NAN when unknown */
	double minflt_per_s, majflt_per_s; /* over the last minute of the window */
	char note[512];
	struct mw_runtime_info runtime; /* from comm and cmdline; kind NONE for native programs */
	char runtime_step[512];         /* the runtime's own tool; "" when none or exited */
	/* Filled by the CLI: the store's slow tier, or smaps_rollup live. */
	struct mw_report_pss pss;
	struct mw_analysis *an; /* trends, regions, hypotheses; NULL when analysis failed */
};

/* Fill from the store for proc over [since_ms, until_ms]. */
int mw_report_from_store(struct mw_store *s, const struct mw_proc_info *proc, int64_t since_ms,
                         int64_t until_ms, struct mw_report *rep);

/*
 * The window figures (from_ms, to_ms, now, delta, per_hour, fault rates)
 * from rep->series (nothing when the series is empty), and the runtime
 * from rep->proc (no next step when the process exited).
 */
void mw_report_summarize(struct mw_report *rep);

void mw_report_release(struct mw_report *rep);

/* The value of metric m at time t_ms in a step series (MW_UNKNOWN before the first point). */
int64_t mw_series_at(const struct mw_series *sr, int metric, int64_t t_ms);

#endif
