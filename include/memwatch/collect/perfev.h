/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * perf_event_open helpers for call-site capture and the deep trace:
 * tracepoint ids from tracefs, sampling events that copy the user
 * registers and a slice of the user stack (what `perf --call-graph dwarf`
 * records), a bounded ring buffer reader that counts what the kernel
 * dropped, and uprobe events on the uprobe PMU (nothing registered in
 * uprobe_events: closing the fd detaches).
 */
#ifndef MEMWATCH_PERFEV_H
#define MEMWATCH_PERFEV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* x86-64 user registers we ask for, in DWARF order (rax rdx rcx rbx rsi rdi rbp rsp r8..r15 rip).
 */
#define MW_NREGS 17
enum { MW_REG_SP = 7, MW_REG_IP = 16 };

struct mw_perf_sample {
	pid_t pid, tid;
	uint64_t time_ns;   /* perf clock (CLOCK_MONOTONIC), see mw_perfev_open */
	uint64_t period;    /* events this sample stands for (freq mode), else 1 */
	const uint8_t *raw; /* tracepoint record (common header included) */
	uint32_t raw_len;
	bool has_regs;
	uint64_t regs[MW_NREGS]; /* DWARF order */
	const uint8_t *stack;    /* copy of user memory starting at regs[MW_REG_SP] */
	uint64_t stack_len;
};

/* Mount tracefs at /sys/kernel/tracing when missing, then read events/GROUP/NAME/id. */
int mw_tracepoint_id(const char *group, const char *name, uint64_t *id);

struct mw_perfev_options {
	uint32_t type; /* PERF_TYPE_TRACEPOINT, or the uprobe PMU type */
	uint64_t config, config1, config2;
	pid_t pid;       /* -1: every process on cpu */
	int cpu;         /* -1: any cpu (with pid >= 0) */
	bool inherit;    /* follow threads created later */
	bool sample;     /* false: counting only */
	uint64_t period; /* sample every Nth event */
	uint64_t freq;   /* > 0: instead, let the kernel adapt the period to this many samples/s */
	uint32_t stack_bytes;   /* user stack slice per sample (0: no stack, no regs) */
	bool raw;               /* the tracepoint's fields */
	uint32_t ring_pages;    /* data pages, power of two */
	uint32_t wakeup_events; /* wake a poller after this many samples */
	int output_fd;          /* > 0: write samples into that event's ring (same cpu) */
	const char *filter;     /* tracepoint filter expression, or NULL */
};

struct mw_perfev;

int mw_perfev_open(const struct mw_perfev_options *o, struct mw_perfev **out);
void mw_perfev_close(struct mw_perfev *e);
int mw_perfev_fd(const struct mw_perfev *e);

/* The counter value (counting mode). */
int mw_perfev_read_count(struct mw_perfev *e, uint64_t *out);

/*
 * Read every complete record in the ring, calling fn for each sample.
 * *lost accumulates samples the kernel dropped (PERF_RECORD_LOST) and
 * throttled intervals (PERF_RECORD_THROTTLE count 1 each).
 */
typedef void (*mw_perf_sample_fn)(void *arg, const struct mw_perf_sample *s);
int mw_perfev_drain(struct mw_perfev *e, mw_perf_sample_fn fn, void *arg, uint64_t *lost,
                    uint64_t *throttled);

/* Parse one PERF_RECORD_SAMPLE body laid out by mw_perfev_open's sample_type. */
int mw_perf_parse_sample(const uint8_t *p, size_t len, bool period, bool raw, bool regs_stack,
                         struct mw_perf_sample *s);

/* The uprobe PMU's type (/sys/bus/event_source/devices/uprobe/type). */
int mw_uprobe_pmu_type(uint32_t *type);

#endif
