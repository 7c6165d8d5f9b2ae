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
 * The tracker knows no store: mw_callsite_tracker_write hands its rows to
 * a struct mw_callsite_sink, which the store implements
 * (memwatch/store/callsitestore.h, which also has the reader); the report
 * renderers are in memwatch/view/callsiteview.h.
 */
#ifndef MEMWATCH_CALLSITE_H
#define MEMWATCH_CALLSITE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

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
#define MW_CALLSITE_DEFAULT_DEPTH     24
#define MW_CALLSITE_DEFAULT_RECONCILE (30ull * 1000000000ull)
#define MW_CALLSITE_MAX_DEPTH         32

/* What a /proc/PID/maps line maps: nothing (anonymous), the heap, a file, or another name. */
enum mw_maps_kind { MW_MAPS_UNKNOWN, MW_MAPS_ANON, MW_MAPS_HEAP, MW_MAPS_FILE, MW_MAPS_OTHER };

/*
 * One /proc/PID/maps line, NUL-terminated (its newline is cut in place):
 * the range and its kind. False when the line is not a mapping.
 */
bool mw_callsite_maps_line(char *line, uint64_t *start, uint64_t *end, int *kind);

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

/* A mapping row an earlier daemon run left outstanding, as the sink read it back. */
struct mw_callsite_open_map {
	int64_t row; /* of the mapping */
	uint64_t addr, len;
	int64_t t_ms;
	const char *kind; /* may be NULL */
	pid_t pid;
	uint64_t start_ticks;
	int64_t stack_row;
	uint64_t stack_hash;
	uint32_t depth;
	const char *frames; /* joined by '\n' */
};

/*
 * Where mw_callsite_tracker_write puts its rows (docs/schema-callsite.md),
 * so that the tracker needs no store: memwatch/store/callsitestore.h gives
 * one writing to the tick's transaction. Each returns 0 or -errno unless
 * said otherwise; ctx is passed back to every call.
 */
struct mw_callsite_sink {
	void *ctx;
	/* The live process row of (pid, start); 0 when not known (yet). */
	int64_t (*proc_id)(void *ctx, pid_t pid, uint64_t start_ticks);
	/*
	 * Call fn on every mapping row still outstanding, as long as fn
	 * returns 0; its last result is returned.
	 */
	int (*open_maps)(void *ctx, int (*fn)(void *arg, const struct mw_callsite_open_map *m),
	                 void *arg);
	/* The row of the stack with this hash in *row, added when new. */
	int (*stack)(void *ctx, uint64_t hash, uint32_t depth, const char *frames, int64_t *row);
	/* A mapping that outlived its reconciles; *row gets its row. */
	int (*map)(void *ctx, int64_t proc_id, int64_t stack_row, const char *kind, uint64_t addr,
	           uint64_t len, int64_t t_ms, int64_t *row);
	/* The mapping of row was seen gone at gone_ms. */
	int (*gone)(void *ctx, int64_t row, int64_t gone_ms);
	/* Counters of proc_id, or machine-wide when proc_id is 0; lost < 0 is not known. */
	int (*counters)(void *ctx, int64_t tick, int64_t proc_id, uint64_t samples, uint64_t taken,
	                uint64_t recorded, uint64_t skipped, int64_t lost);
};

/*
 * Inside the tick transaction: store mappings that survived a reconcile,
 * unmaps seen since, and changed counters, through sink. Processes whose
 * proc_id(pid, start) the sink does not know yet wait. The first call
 * takes over the rows an earlier run left open.
 */
int mw_callsite_tracker_write(struct mw_callsite_tracker *t, const struct mw_callsite_sink *sink,
                              int64_t tick_id, uint64_t t_ns);

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

#endif
