/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * memwatch top, private to the CLI: the data model (rows from the store or
 * from the embedded collectors), the column table, and the panels. The
 * model knows nothing of ncurses, and nothing here knows SQL: the store's
 * readers (memwatch/store/tickread.h and the others) fill plain structs.
 *
 * The slower sources (regions, hypotheses, call sites, slab, IPC, OOM)
 * come in through one top_src_* function each, which returns -EOPNOTSUPP
 * where the mode cannot provide them (embedded sampling keeps no
 * history); the panels then print "-".
 */
#ifndef MEMWATCH_CLI_TOP_H
#define MEMWATCH_CLI_TOP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include "memwatch/analyse/oom.h"
#include "memwatch/base/pidmap.h"
#include "memwatch/collect/proc.h"
#include "memwatch/analyse/procreport.h"
#include "memwatch/store/store.h"
#include "memwatch/collect/sysmem.h"

#define TOP_SPARK_N     32 /* history points kept per process (embedded) and drawn */
#define TOP_TAG_MAX     12
#define TOP_SHORT_MS    10000 /* fault rates: over about the last 10 s */
#define TOP_OOM_HOLD_MS (15 * 60 * 1000)
/* The OOM view lists kills this far back, as `memwatch oom` does by default. */
#define TOP_OOM_LIST_MS (60 * 60 * 1000)
/*
 * Hypothesis tags and region columns change slowly (the region tier
 * samples about once a minute): a row's lookups are reused for this long,
 * plus a per-pid stagger so a screenful does not expire in one refresh.
 */
#define TOP_LAZY_TTL_MS 30000

/* Region columns fed by the regions branch (smaps). */
enum top_reg {
	TOP_REG_HEAP,
	TOP_REG_TSTACK,
	TOP_REG_ANON,
	TOP_REG_PSS,
	TOP_REG_USS,
	TOP_REG_COUNT
};

struct top_row {
	int64_t proc_id; /* store: procs.id; embedded: 0 */
	pid_t pid, ppid;
	uint32_t uid;
	uint64_t start_ticks;
	char comm[MW_COMM_MAX];
	char *cmdline;  /* owned, raw bytes from /proc */
	char *cgroup;   /* owned */
	char group[80]; /* service or cgroup leaf, for grouping */
	char user[32];
	int64_t m[MW_PM_COUNT];
	double growth;              /* RSS bytes per minute over the window; NAN when unknown */
	double span_s;              /* seconds the growth figure covers */
	double minflt_s, majflt_s;  /* NAN when unknown */
	int64_t reg[TOP_REG_COUNT]; /* MW_UNKNOWN until region data exists */
	char tag[TOP_TAG_MAX];      /* top hypothesis; "" = none known */
	int nspark;
	double spark[TOP_SPARK_N]; /* RSS history, oldest first */
	int members;               /* group rows: how many processes */
	bool is_group;
	bool spark_done;
	bool lazy_done; /* sparkline, regions, hypothesis looked up (visible rows only) */
	bool tag_known; /* the hypothesis source ran: "" means none scored */
};

enum top_source { TOP_FROM_STORE, TOP_FROM_EMBEDDED };

struct top_opts {
	const char *db_path;
	const char *db_from; /* how the CLI chose db_path (cli/dbpath.h) */
	bool db_explicit;
	bool embedded; /* sample /proc in-process even when a daemon records */
	uint64_t delay_ns;
	int64_t at_ms; /* 0: live */
	int64_t window_ms;
	bool batch;
	int iterations; /* batch: 0 = forever */
	int bench_refreshes;
	const char *sort;
	const char *filter;
	bool utf8;
};

/* Embedded-mode history of one process (kept in an mw_pidmap). */
struct top_hist {
	uint64_t seen; /* refresh sequence that last saw it */
	int n, head;
	int64_t t_ms[TOP_SPARK_N];
	int64_t rss[TOP_SPARK_N], minflt[TOP_SPARK_N], majflt[TOP_SPARK_N];
	int64_t first_ms;
	int64_t first[MW_PM_COUNT];
};

/* Cached per-row lookups (see TOP_LAZY_TTL_MS). */
struct top_lazy {
	int64_t t_ms; /* the moment they were computed for */
	bool tag_known;
	char tag[TOP_TAG_MAX];
	int64_t reg[TOP_REG_COUNT];
};

struct top_sys {
	bool valid, have_prev;
	int64_t t_ms;
	struct mw_sys_sample now, prev; /* prev: about TOP_SHORT_MS earlier, for rates */
	double dt_s;
	struct mw_sys_sample base; /* at the start of the window, for trends */
	double base_dt_s;
	bool have_base;
};

struct top_model {
	struct top_opts opt;
	enum top_source src;
	struct mw_store *store;
	bool recording; /* a daemon holds the writer lock */
	struct mw_proc_collector *pc;
	struct mw_pidmap *hist;
	struct mw_pidmap *lazy; /* struct top_lazy per (pid, start) */
	struct mw_proc_set set;
	uint64_t seq;
	int64_t now_ms, first_ms; /* the moment shown; the start of history */
	int64_t tick_id;          /* store: the tick shown */
	int64_t at_ms;            /* replay target; 0 live */
	int64_t window_ms;
	struct top_row *rows;
	size_t n, cap;
	struct top_sys sys;
	int64_t oom_ms;   /* last OOM kill seen (events or counter); 0 none */
	int64_t oom_base; /* embedded: oom_kill counter at start */
	struct {
		int64_t tick_id; /* the tick h was read at */
		int rc;          /* of mw_oom_history_from_store; -EAGAIN: not read yet */
		struct mw_oom_history h;
	} oom; /* store: the kills `memwatch oom` lists, TOP_OOM_LIST_MS back */
	char boot_id[64];
	char host[256 * 4 + 1]; /* the recording host's name, escaped for the terminal */
	char note[160];
	struct {
		uint32_t uid;
		char name[32];
	} users[64]; /* uid -> name, so a refresh does not parse /etc/passwd per row */
	size_t nusers;
};

/* top_model.c */
int top_model_open(struct top_model *m, const struct top_opts *o, char *err, size_t errlen);
int top_model_refresh(struct top_model *m);
void top_model_close(struct top_model *m);
/*
 * The per-row lookups too costly for every process on every refresh:
 * sparkline (store), region columns, hypothesis tag. Done once per refresh
 * for the rows on screen (and for every row in --batch).
 */
void top_model_lazy(struct top_model *m, struct top_row *r, bool spark);
/* Step the replay moment by delta ticks (store mode); returns 0 or -errno. */
int top_model_step(struct top_model *m, int delta);
const char *top_user_name(struct top_model *m, uint32_t uid);
void top_row_release(struct top_row *r);

/* top_sources.c: one function per slower data source, as text lines for a panel. */
int top_src_regions(struct top_model *m, struct top_row *r);
int top_src_hypothesis(struct top_model *m, struct top_row *r);
struct top_text {
	char **lines;
	size_t n;
};
void top_text_free(struct top_text *t);
/* Drop skip lines after the first keep (a heading row), for scrolling a long list. */
void top_text_scroll(struct top_text *t, size_t keep, size_t skip);
/* Also the tag of the analysis's #1 ("" when none is reported): the detail view's own verdict. */
int top_src_hypotheses_detail(struct top_model *m, const struct top_row *r, struct top_text *out,
                              char *tag, size_t cap);
int top_src_callsites(struct top_model *m, const struct top_row *r, struct top_text *out);
int top_src_slab(struct top_model *m, struct top_text *out);
int top_src_ipc(struct top_model *m, struct top_text *out);
int top_src_oom_forecast(struct top_model *m, struct top_text *out);
int top_src_oom_history(struct top_model *m, struct top_text *out);
int top_src_region_table(struct top_model *m, const struct top_row *r, struct top_text *out);

/* top_cols.c: the process-view columns, their formatting and ordering. */
enum top_col {
	TC_PID,
	TC_USER,
	TC_RSS,
	TC_GROWTH,
	TC_VSZ,
	TC_HEAP,
	TC_STACK,
	TC_TSTACK,
	TC_ANON,
	TC_FILE,
	TC_SHM,
	TC_SWAP,
	TC_THREADS,
	TC_FDS,
	TC_MINFLT,
	TC_MAJFLT,
	TC_OOM,
	TC_OOMADJ,
	TC_PSS,
	TC_USS,
	TC_HYP,
	TC_SPARK,
	TC_COMMAND,
	TC_COUNT
};

struct top_col_def {
	const char *title;
	const char *key; /* --sort name */
	int width;       /* 0: takes the rest of the line */
	bool left;       /* left-aligned */
	int priority;    /* lower is dropped last on narrow terminals */
};

extern const struct top_col_def top_cols[TC_COUNT];

int top_col_by_key(const char *key);
/* Whether a column is filled by top_model_lazy (region columns, HYP). */
bool top_col_lazy(enum top_col c);
/* Format a cell (no escaping needed: numbers; COMMAND and USER are escaped here). */
void top_cell(const struct top_row *r, enum top_col c, bool utf8, char *buf, size_t cap);
/* Sort rows by column (descending for numbers unless invert), pid tiebreak. */
void top_sort(struct top_row *rows, size_t n, enum top_col c, bool invert);
/* Does the row match a filter (substring of comm, cmdline, user; case-insensitive)? */
bool top_row_matches(const struct top_row *r, const char *filter);
/* Group rows by service/cgroup into out (owned rows without strings). */
int top_group(const struct top_row *rows, size_t n, struct top_row **out, size_t *nout);

/* top_meter.c */
void top_sparkline(const double *v, int n, int width, bool utf8, char *buf, size_t cap);

/* top_batch.c */
int top_batch_run(struct top_model *m);
void top_batch_print(FILE *f, struct top_model *m, enum top_col sort, bool invert,
                     const char *filter);

/* top_ui.c */
int top_ui_run(struct top_model *m);

#endif
