/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Call sites in the store (docs/schema-callsite.md).
 *
 * Writer side: a struct mw_callsite_sink (memwatch/collect/callsite.h)
 * that puts what the daemon's tracker found into the tick transaction.
 *
 * Reader side: outstanding bytes/count per call site of one process and
 * how fast each grows, and evidence lines for the hypotheses. The report
 * renderers are in memwatch/view/callsiteview.h.
 */
#ifndef MEMWATCH_CALLSITESTORE_H
#define MEMWATCH_CALLSITESTORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "memwatch/base/framerule.h"

struct mw_store;
struct mw_callsite_sink;

/* ---- writing ---- */

/*
 * A sink writing to s, for one tick transaction (its statements are
 * prepared here: -EIO when the store has no call-site tables).
 */
struct mw_callsite_writer;
int mw_callsite_writer_new(struct mw_store *s, struct mw_callsite_writer **out);
void mw_callsite_writer_free(struct mw_callsite_writer *w);
const struct mw_callsite_sink *mw_callsite_writer_sink(struct mw_callsite_writer *w);

/* ---- reading ---- */

struct mw_callsite {
	int64_t stack_id;
	char kind[8];           /* "anon", "heap", "file", "other" */
	int64_t bytes, count;   /* outstanding at the end of the window */
	double growth_per_hour; /* outstanding bytes per hour over the window */
	size_t nframes;
	char **frames; /* "function+0xoff (module)", innermost first */
	size_t app;    /* the first application frame (memwatch/base/framerule.h); nframes: none */
	enum mw_runtime runtime; /* whose frames lie above it */
};

struct mw_callsite_list {
	size_t n;
	struct mw_callsite *v; /* by outstanding bytes, largest first */
	int64_t since_ms, until_ms;
	/* this process's counters, as last stored */
	int64_t recorded, skipped;
	/* machine-wide: samples the kernel dropped */
	int64_t lost;
	int64_t pid;
	/*
	 * Coverage: growth over the window of the sites listed (mapped bytes)
	 * and of the process's VmData (private mappings and heap); data_growth
	 * < 0 when not known.
	 */
	int64_t sites_growth, data_growth;
	bool available; /* the store has call-site tables and the daemon recorded them */
};

/* Top max sites of one process in [since_ms, until_ms]. */
int mw_store_callsites(struct mw_store *s, int64_t proc_id, int64_t since_ms, int64_t until_ms,
                       size_t max, struct mw_callsite_list *out);
void mw_callsite_list_release(struct mw_callsite_list *l);

/* sites_growth / data_growth, 0..1 (0 when the process's growth is not known or none). */
double mw_callsite_coverage(const struct mw_callsite_list *l);

/*
 * What a site's count counts: mappings, or for heap sites the brk growth
 * steps snapshotted ("brk extents"); one wording for evidence and report.
 */
const char *mw_callsite_held_in(const struct mw_callsite *c);

/*
 * Evidence lines for the anonymous-mmap hypothesis: up to max anon/heap
 * sites of proc_id, each "caller-frame <- its caller: BYTES in N mappings,
 * +RATE/h" with the allocator's and libc's own frames skipped. *lines is
 * NULL and *n 0 when nothing is recorded. Free with mw_callsite_evidence_free.
 */
int mw_callsite_evidence(struct mw_store *s, int64_t proc_id, int64_t since_ms, int64_t until_ms,
                         size_t max, char ***lines, size_t *n);
void mw_callsite_evidence_free(char **lines, size_t n);

#endif
