/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Call sites: which code holds a process's growing mappings.
 *
 * Writer side (memwatchd): the eBPF mapping and fault programs copy the
 * user registers and a slice of the user stack at new mappings
 * (mmap:vm_unmapped_area: malloc's large blocks, arenas, thread stacks,
 * pools) and at heap (brk) growth, within a per-process token bucket kept
 * in the kernel, into one ring buffer; without eBPF, perf events on
 * vm_unmapped_area do it for mappings (bucket in user space, storms muted
 * by a filter). Skipped and kernel-dropped snapshots are counted. Every
 * reconcile interval each tracked range is checked against /proc/PID/maps:
 * gone means unmapped (or the heap shrank). A range found by two
 * reconciles is unwound (libdw CFI, from the snapshot kept since the
 * event) and stored (docs/schema-callsite.md); the many that go sooner
 * never cost an unwind.
 *
 * Reader side: outstanding bytes/count per call site of one process and
 * how fast each grows, plus text and JSON renderers for reports.
 */
#ifndef MEMWATCH_CALLSITE_H
#define MEMWATCH_CALLSITE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

struct mw_store;
struct mw_json;

struct mw_callsite_options {
	uint32_t stack_bytes;  /* user stack slice per snapshot: 8192..16384 (rounded to 8) */
	double rate_per_s;     /* token bucket refill, snapshots per second per process */
	double burst;          /* token bucket size */
	unsigned depth;        /* frames kept per stack */
	uint64_t reconcile_ns; /* how often tracked mappings are checked against maps */
	uint32_t ring_pages;   /* perf ring data pages per cpu (power of two) */
	bool perf_only;        /* perf events even when eBPF could snapshot (no heap growth) */
};

#define MW_CALLSITE_DEFAULT_STACK     8192
#define MW_CALLSITE_DEFAULT_RATE      2.0
#define MW_CALLSITE_DEFAULT_BURST     32.0
#define MW_CALLSITE_DEFAULT_DEPTH     12
#define MW_CALLSITE_DEFAULT_RECONCILE (30ull * 1000000000ull)
#define MW_CALLSITE_MAX_DEPTH         32

void mw_callsite_options_default(struct mw_callsite_options *o);

/*
 * Override defaults from the environment (MEMWATCH_CALLSITE_STACK, _RATE,
 * _BURST, _DEPTH, _RECONCILE in seconds, _SOURCE auto or perf). -EINVAL names the bad variable in
 * why.
 */
int mw_callsite_options_from_env(struct mw_callsite_options *o, char *why, size_t whylen);

struct mw_callsite_tracker;

/*
 * Take snapshots from the eBPF programs' ring (snap_fd, from
 * mw_bpfmon_snaps: new mappings and heap growth, rate-limited in the
 * kernel) or, with snap_fd < 0, from per-cpu perf events on
 * mmap:vm_unmapped_area (new mappings only). On error, why says what is missing.
 */
int mw_callsite_tracker_new(const struct mw_callsite_options *o, int snap_fd,
                            struct mw_callsite_tracker **out, char *why, size_t whylen);
void mw_callsite_tracker_free(struct mw_callsite_tracker *t);

/* An fd (epoll) that is readable when samples wait. */
int mw_callsite_tracker_fd(const struct mw_callsite_tracker *t);

/* Drain the rings: rate-limit, keep snapshots, track. Cheap when nothing waits. */
int mw_callsite_tracker_poll(struct mw_callsite_tracker *t);

/* Check tracked mappings against /proc/PID/maps when the interval has passed. */
int mw_callsite_tracker_reconcile(struct mw_callsite_tracker *t, uint64_t mono_ns, bool force);

/*
 * Inside the tick transaction: store mappings that survived a reconcile,
 * unmaps seen since, and changed counters. proc_id(pid, start) comes from
 * the store (mw_store_live_proc_id); processes it does not know yet wait.
 */
int mw_callsite_tracker_write(struct mw_callsite_tracker *t, struct mw_store *s, int64_t tick_id,
                              uint64_t t_ns);

struct mw_callsite_counters {
	uint64_t samples;   /* mapping events seen (after the daemon's own) */
	uint64_t taken;     /* snapshots kept (within the token bucket) */
	uint64_t recorded;  /* snapshots unwound: their mapping outlived a reconcile */
	uint64_t skipped;   /* over a process's token bucket */
	uint64_t lost;      /* dropped by the kernel: ring full (PERF_RECORD_LOST) */
	uint64_t throttled; /* PERF_RECORD_THROTTLE intervals */
	uint64_t unwind_failed;
	uint64_t transient; /* unmapped before a reconcile saw them: never stored */
};

void mw_callsite_tracker_counters(const struct mw_callsite_tracker *t,
                                  struct mw_callsite_counters *c);

/* Snapshots the eBPF programs could not queue (their ring was full), counted as lost. */
void mw_callsite_tracker_set_dropped(struct mw_callsite_tracker *t, uint64_t n);

/* ---- reading ---- */

struct mw_callsite {
	int64_t stack_id;
	char kind[8];           /* "anon", "heap", "file", "other" */
	int64_t bytes, count;   /* outstanding at the end of the window */
	double growth_per_hour; /* outstanding bytes per hour over the window */
	size_t nframes;
	char **frames; /* "function+0xoff (module)", innermost first */
};

struct mw_callsite_list {
	size_t n;
	struct mw_callsite *v; /* by outstanding bytes, largest first */
	int64_t since_ms, until_ms;
	/* this process's counters, as last stored */
	int64_t recorded, skipped;
	/* machine-wide: samples the kernel dropped */
	int64_t lost;
	bool available; /* the store has call-site tables and the daemon recorded them */
};

/* Top max sites of one process in [since_ms, until_ms]. */
int mw_store_callsites(struct mw_store *s, int64_t proc_id, int64_t since_ms, int64_t until_ms,
                       size_t max, struct mw_callsite_list *out);
void mw_callsite_list_release(struct mw_callsite_list *l);

/* The "call sites" section of a text report (escaped for the terminal). */
void mw_callsite_print(FILE *f, const struct mw_callsite_list *l, bool utf8);

/* The same as a JSON object under key. */
void mw_callsite_json(struct mw_json *j, const char *key, const struct mw_callsite_list *l);

/*
 * One-line hooks for `memwatch report`: read the top 5 sites of proc_id in
 * the window and print the section / emit it under key ("callsites").
 */
int mw_callsite_report_text(struct mw_store *s, int64_t proc_id, int64_t since_ms, int64_t until_ms,
                            FILE *f, bool utf8);
int mw_callsite_report_json(struct mw_store *s, int64_t proc_id, int64_t since_ms, int64_t until_ms,
                            struct mw_json *j, const char *key);

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
