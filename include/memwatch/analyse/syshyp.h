/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * System hypotheses (DOMAIN.md section 7, items 6, 8, 9, 10 and 11 for
 * the machine): a table of rules over a mw_sysview, each raising at most
 * a few findings with evidence, a confidence, and the next step. Trends
 * come from trend.h, as for the process rules. A steady machine raises
 * nothing.
 */
#ifndef MEMWATCH_SYSHYP_H
#define MEMWATCH_SYSHYP_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "memwatch/analyse/oom.h"
#include "memwatch/analyse/sysview.h"
#include "memwatch/analyse/tuneadvice.h"

#define MW_HYP_EVIDENCE 8
#define MW_SYSHYP_MAX   16
#define MW_HYP_ADVICE   4

struct mw_syshyp {
	const char *rule; /* stable id: orphaned-shm, ipc-backlog, slab-growth, memory-pressure,
	                     oom-risk */
	int domain_item;  /* DOMAIN.md section 7 number */
	char title[1024];
	double score;      /* confidence 0..1 */
	char subject[320]; /* what it is about: queue, cache, segment list */
	pid_t pid;         /* the process it names (writer, creator, correlated); 0 when none */
	char comm[MW_COMM_MAX];
	char evidence[MW_HYP_EVIDENCE][400];
	size_t nevidence;
	char next_step[400];
	double seconds_to_exhaustion; /* NAN when not applicable */
	size_t nadvice;
	struct mw_tune_advice advice[MW_HYP_ADVICE];
};

struct mw_syshyp_set {
	size_t n;
	struct mw_syshyp v[MW_SYSHYP_MAX];
};

/* Thresholds (documented in docs/schema-system.md, "System hypotheses"). */
#define MW_HYP_SHM_MIN_BYTES   (64 << 10) /* an orphaned SysV segment this big is worth a line */
#define MW_HYP_POSIX_MIN_BYTES (1 << 20)  /* unheld /dev/shm files together this big */
#define MW_HYP_TREND_P         0.05       /* Mann–Kendall significance for "rising" */
#define MW_HYP_CORR_MIN        0.8        /* rank correlation naming a process for slab growth */
#define MW_HYP_PSI_SOME_AVG60  1000       /* 10.00 % of time stalled on memory (hundredths) */
#define MW_HYP_MAJFLT_PER_S    100.0      /* major faults per second that mean paging */
#define MW_HYP_OOM_HORIZON_S   (7.0 * 86400.0)

/* Inputs of the tunable advice, taken from a view (root for page size defaults). */
void mw_syshyp_tune_input(const struct mw_sysview *v, struct mw_tune_input *in);

/* Run every rule. forecast may be NULL (then item 11 is skipped). */
void mw_syshyp_eval(const struct mw_sysview *v, const struct mw_oom_forecast *forecast,
                    struct mw_syshyp_set *out);

/* allocstall_* summed over zones; MW_UNKNOWN when none is printed. */
int64_t mw_vmstat_allocstall(const int64_t vm[MW_VM_COUNT]);

#endif
