/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Leak hypotheses for one process (DOMAIN.md section 7, items 1-8 and 11),
 * as a data table of rules: each reads one metric (with a process-level
 * fallback when region data is missing), has thresholds and a next-step
 * template. A new hypothesis is one table entry plus its test.
 *
 * Score in [0,1]:
 *   significance  s = clamp((-log10(p_MK) - 1.3) / 2.7, 0, 1)   (p 0.05 -> 0, 1e-4 -> 1)
 *   magnitude     m = clamp(ln(rate/min_rate) / ln(strong_rate/min_rate), 0, 1)
 *   score = weight * s * (0.6 + 0.4 m) * stable * specific (+0.05 eBPF support)
 * where rate is the Theil–Sen slope per hour, limited by the floor slope
 * when the series dropped (a sawtooth returning to its base has rate 0),
 * stable is 0.2 when the metric has not set a new high for a quarter of
 * the window (grew, then stabilised), specific is 0.85 on a fallback
 * metric. The best window wins. MW_HYP_THRESHOLD is the reporting line.
 * OOM risk and limit rules stand alone only when no reported rule explains
 * the growth (or, for limits, the process is at 90 % of it already);
 * otherwise their time to the limit is an attribute of the cause.
 */
#ifndef MEMWATCH_HYPOTHESIS_H
#define MEMWATCH_HYPOTHESIS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define MW_HYP_THRESHOLD 0.3
#define MW_HYP_MAX       24

struct mw_analysis;

enum mw_rule_kind {
	MW_RULE_GROWTH,   /* the metric rises steadily, floor included */
	MW_RULE_SAWTOOTH, /* the metric saws up and down while its floor rises (fragmentation) */
	MW_RULE_IPC,      /* a message queue the process created fills up */
	MW_RULE_OOM,      /* total memory reaches the limit at this rate */
	MW_RULE_LIMIT,    /* the metric is at or near its resource limit, or soon will be */
};

/* Metrics are enum mw_ametric values (analysis.h); -1 = none. */
struct mw_rule {
	const char *id;     /* stable, for JSON: "heap-growth" */
	const char *tag;    /* short, for memwatch top: "HEAP" */
	const char *region; /* DOMAIN.md section 1 region name */
	const char *title;
	enum mw_rule_kind kind;
	int metric;            /* read when its source has data */
	int fallback;          /* read when it does not (less specific) */
	int support;           /* shown as supporting evidence */
	bool fallback_only;    /* the rule exists only without the primary's source */
	double min_rate_h;     /* metric units per hour below which nothing is said */
	double strong_rate_h;  /* a rate that earns full magnitude */
	double min_abs;        /* growth over the window below which nothing is said */
	double weight;         /* the most this hypothesis can score */
	const char *next_step; /* template; every %d is the pid */
	/*
	 * Its growth is the process's memory growth: it carries the process's
	 * time to exhaustion, and OOM risk is its consequence when it is reported.
	 */
	bool in_rss;
};

extern const struct mw_rule mw_rules[];
extern const size_t mw_nrules;

struct mw_hyp_evidence {
	int metric; /* the one read */
	bool fallback;
	int64_t window_s;
	int64_t from_ms, to_ms;
	size_t n;
	double first, last;
	double slope_per_h, mk_p, mk_z, floor_slope_per_h;
	size_t floor_n;
	double plateau_s;
	int support;
	double support_slope_per_h; /* NAN when not available */
	double support_last;
	bool bpf_available;
	int64_t bpf_faults; /* faults in this region over the window (heap/stack/mmap) */
	int64_t bpf_mmaps, bpf_mmap_bytes;
	/*
	 * Call sites holding outstanding anonymous mappings (DWARF-unwound
	 * stacks from memwatchd's call-site source, lib/callsite.c); points
	 * into the analysis, empty when none were recorded.
	 */
	size_t ncall_sites;
	const char *const *call_sites;
};

struct mw_hypothesis {
	const struct mw_rule *rule;
	double score;
	struct mw_hyp_evidence ev;
	double tte_s; /* seconds until the limit at this rate; NAN when not growing/unknown */
	const char *tte_basis; /* "MemAvailable", "cgroup memory limit", a limit of its own, NULL */
	bool own_limit;        /* tte_s is to a limit of its own, tighter than memory's */
	bool near_limit;       /* limit rules: at 90 % or more of it (stands even when explained) */
	char next_step[256];
	char note[256];
};

/* Evaluate every rule on an analysed process; fills a->hyp ranked by score. */
int mw_hypotheses_eval(struct mw_analysis *a);

struct mw_metric_window;

/*
 * The window's growth is bounded by its mappings (warming up: fixed size
 * and count, RSS rising toward the size, and the rest fits in the
 * headroom); then no growth rule scores it and OOM risk leaves it out.
 */
bool mw_region_warming(const struct mw_analysis *a, const struct mw_metric_window *w);

/* "warming up: N % of a fixed M MiB mapping resident ..." for such a window. */
void mw_warming_text(const struct mw_metric_window *w, char *buf, size_t cap);

/* Hypotheses at or above MW_HYP_THRESHOLD. */
size_t mw_hypotheses_reported(const struct mw_analysis *a);

/*
 * Hook for the call sites of outstanding anonymous mappings (hypotheses 1
 * and 2): points ev at the analysis's call-site lines (loaded from the
 * store by mw_analyze_process, lib/callsite.c). -ENODATA when none.
 */
int mw_hyp_mmap_call_sites(const struct mw_analysis *a, struct mw_hyp_evidence *ev);

#endif
