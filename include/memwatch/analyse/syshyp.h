/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * System hypotheses (DOMAIN.md section 7, items 6, 8, 9, 10 and 11 for
 * the machine): a table of rules over a mw_sysview, each raising at most
 * a few findings with evidence, a confidence, and the next step. Trends
 * come from trend.h, as for the process rules. A steady machine raises
 * nothing.
 *
 * A finding is data, as struct mw_hypothesis is for a process: the rule,
 * the score, a headline fact (what the title states) and typed evidence
 * facts, each with the numbers it needs. The sentences are the view's
 * (view/syshyp.h), so the text, HTML and JSON say the same thing and a
 * JSON reader gets the numbers without parsing English.
 */
#ifndef MEMWATCH_SYSHYP_H
#define MEMWATCH_SYSHYP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "memwatch/analyse/oom.h"
#include "memwatch/analyse/sysview.h"
#include "memwatch/analyse/tuneadvice.h"

#define MW_HYP_EVIDENCE 8
#define MW_SYSHYP_MAX   16
#define MW_HYP_ADVICE   4
/*
 * Segment ids an orphaned-shm finding keeps for its subject: 32 distinct
 * ids always fill the report's 320-character subject line, so keeping
 * more would change nothing.
 */
#define MW_SYSHYP_IDS 32

/* The rules, in evaluation (and report) order. */
enum mw_sysrule_id {
	MW_SYSRULE_ORPHANED_SHM,
	MW_SYSRULE_IPC_BACKLOG,
	MW_SYSRULE_SLAB_GROWTH,
	MW_SYSRULE_MEMORY_PRESSURE,
	MW_SYSRULE_OOM_RISK,
	MW_SYSRULE_COUNT
};

struct mw_sysrule {
	const char *id;  /* stable, for JSON and the HTML anchor: "orphaned-shm" */
	int domain_item; /* DOMAIN.md section 7 number */
};

extern const struct mw_sysrule mw_sysrules[MW_SYSRULE_COUNT];

/* A process a fact names. comm is the kernel's, hostile: the view escapes it. */
struct mw_sysfact_proc {
	pid_t pid;
	bool known; /* found in the process table: comm is set */
	bool alive; /* still running at the end of the window (shm creators) */
	char comm[MW_COMM_MAX];
};

/* An IPC object as the reports name it. */
struct mw_sysfact_ipc {
	enum mw_ipc_kind kind;
	int64_t key, id;            /* SysV */
	char name[MW_IPC_NAME_MAX]; /* POSIX, without the leading '/' */
};

/*
 * Fact kinds. The headline kinds say what a title states, one per
 * hypothesis; the others are its evidence lines, in order. The JSON
 * name of each is mw_sysfact_kind_names[kind].
 */
enum mw_sysfact_kind {
	/* headlines */
	MW_SF_SHM_ORPHANS,       /* orphaned-shm */
	MW_SF_QUEUE_BACKLOG,     /* ipc-backlog */
	MW_SF_CACHE_GROWTH,      /* slab-growth, a cache named */
	MW_SF_SUNRECLAIM_GROWTH, /* slab-growth, SUnreclaim alone */
	MW_SF_PRESSURE,          /* memory-pressure */
	MW_SF_OOM_ETA,           /* oom-risk */
	/* evidence */
	MW_SF_SHM_SEGMENT,
	MW_SF_POSIX_UNHELD,
	MW_SF_QUEUE_BYTES,
	MW_SF_QUEUE_MESSAGES,
	MW_SF_CACHE,
	MW_SF_CACHE_ALSO,
	MW_SF_SUNRECLAIM_TOO, /* SUnreclaim rising beside a named cache */
	MW_SF_SUNRECLAIM,     /* SUnreclaim rising, no cache to name */
	MW_SF_IN_STEP,
	MW_SF_NONE_IN_STEP,
	MW_SF_RECLAIM,
	MW_SF_PSI,
	MW_SF_ADVICE,
	MW_SF_MEM_AVAILABLE,
	MW_SF_NEXT_VICTIM,
	MW_SF_VICTIM_AT_OOM,
	MW_SF_PROTECT,
	MW_SF_COUNT
};

extern const char *const mw_sysfact_kind_names[MW_SF_COUNT];

enum mw_sysfact_writer {
	MW_SF_WRITER_NONE,   /* nobody known */
	MW_SF_WRITER_SENDER, /* SysV lspid; proc.known says whether its comm is */
	MW_SF_WRITER_HOLDER, /* a process holding the POSIX queue open for writing */
};

enum mw_sysfact_cause {
	MW_SF_CAUSE_DIRECT_RECLAIM, /* allocstall or pgscan_direct rose */
	MW_SF_CAUSE_PSI,            /* PSI memory some avg60 at or above the line */
	MW_SF_CAUSE_MAJOR_FAULTS,   /* major faults per second at or above the line */
};

enum mw_sysfact_series { MW_SF_SERIES_FDS, MW_SF_SERIES_THREADS };

/*
 * One fact; the member named after the kind holds its numbers. Bytes are
 * bytes, rates per second, durations in ms unless named _s, trend values
 * as the trend computed them (doubles).
 */
struct mw_sysfact {
	enum mw_sysfact_kind kind;
	union {
		struct {
			size_t segments; /* SysV segments >= MW_HYP_SHM_MIN_BYTES, no attachment */
			int64_t segment_bytes; /* their sizes summed */
			size_t posix_files;    /* orphaned /dev/shm files */
			int64_t posix_bytes;
			bool posix_reported; /* posix_bytes >= MW_HYP_POSIX_MIN_BYTES */
			size_t nids;         /* the first segments' ids (the subject) */
			int64_t ids[MW_SYSHYP_IDS];
		} shm_orphans;
		struct {
			struct mw_sysfact_ipc queue;
			enum mw_sysfact_writer writer;
			struct mw_sysfact_proc proc; /* the writer, when writer != NONE */
		} queue_backlog;
		struct {
			char name[MW_SLAB_NAME_MAX];
			char aliases[512]; /* caches merged into its slab, "" when none */
			double bytes_per_s;
		} cache_growth;
		struct {
			double bytes_per_s;
			bool per_cache; /* /proc/slabinfo was readable (but no cache rose) */
		} sunreclaim_growth;
		struct {
			enum mw_sysfact_cause cause;
		} pressure;
		struct {
			double seconds;  /* until MemAvailable reaches 0 */
			size_t nprotect; /* critical services still killable (all of them) */
		} oom_eta;
		struct {
			int64_t key, id, size, resident;
			int64_t age_s; /* MW_UNKNOWN when the creation time is not known */
			struct mw_sysfact_proc creator; /* known: in the process table */
		} shm_segment;
		struct {
			size_t files;
			int64_t bytes;
		} posix_unheld;
		struct {
			double first, last, bytes_per_s, mk_p;
			int64_t duration_ms;
			size_t samples;
		} queue_bytes;
		struct {
			int64_t messages;
			pid_t last_sender, last_receiver; /* 0: none */
		} queue_messages;
		struct {
			char name[MW_SLAB_NAME_MAX];
			double first, last, mk_p;
			int64_t objects, objsize, duration_ms;
		} cache;
		struct {
			char name[MW_SLAB_NAME_MAX];
			double bytes_per_s;
		} cache_also;
		struct {
			double first, last, mk_p;
		} sunreclaim; /* MW_SF_SUNRECLAIM and MW_SF_SUNRECLAIM_TOO */
		struct {
			struct mw_sysfact_proc proc;
			enum mw_sysfact_series series;
			double first, last, correlation; /* Spearman, against the cache's bytes */
		} in_step;
		struct {
			double window_s;
			int64_t allocstall, pgscan_direct; /* rise over the window */
			double majflt_per_s;
		} reclaim;
		struct {
			double some_avg60_pct;
		} psi;
		struct {
			char tunable[32];
			int64_t current, suggested;
		} advice;
		struct {
			int64_t bytes;
			double falling_per_s, mk_p;
		} mem_available;
		struct {
			struct mw_sysfact_proc proc;
			int64_t oom_score;
		} next_victim;
		struct {
			struct mw_sysfact_proc proc;
		} victim_at_oom;
		struct {
			struct mw_sysfact_proc proc;
			int64_t adj;
		} protect;
	};
};

struct mw_syshyp {
	const struct mw_sysrule *rule;
	double score;           /* confidence 0..1 */
	struct mw_sysfact head; /* what the title says (a headline kind) */
	pid_t pid; /* the process it names (writer, creator, correlated); 0 when none */
	char comm[MW_COMM_MAX];
	struct mw_sysfact facts[MW_HYP_EVIDENCE];
	size_t nfacts;
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
#define MW_HYP_CORR_MIN_RISE   10.0       /* and its fds or threads rose by at least this */
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
