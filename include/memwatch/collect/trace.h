/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The deep trace of one process (memwatch trace): for a bounded time, the
 * hooks too costly to leave on. Counting perf events on the syscall
 * tracepoints brk/mmap/munmap/mremap/madvise and the SysV/POSIX IPC calls,
 * and uprobes (uprobe PMU, nothing written to uprobe_events) on the
 * malloc/calloc/realloc/free of the libc the process maps. One event per
 * thread, threads born later attached by a rescan every read. Closing
 * detaches.
 */
#ifndef MEMWATCH_TRACE_H
#define MEMWATCH_TRACE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define MW_TRACE_MAX_HOOKS 32

struct mw_trace_hook {
	char name[32];   /* "malloc", "sys_mmap", ... */
	bool uprobe;     /* else a syscall tracepoint */
	uint64_t offset; /* uprobe: file offset attached at */
	int skipped;     /* uprobe: bytes skipped past non-emulated instructions */
	uint64_t count;  /* summed over threads */
};

/* A malloc call site, from sampled calls (weights scaled by the sampling period). */
struct mw_trace_site {
	char *frames;          /* "function+0xoff (module)" lines, innermost first */
	uint64_t calls, bytes; /* estimated: the exact malloc count shared out by samples */
	uint64_t samples, size_sum;
};

struct mw_trace {
	pid_t pid;
	uint64_t sample_every; /* malloc samples per second with a stack (period adapted each read);
	                          0: off */
	unsigned depth;
	char libc[4096]; /* path of the libc the process maps, "" if none */
	size_t nhooks;
	struct mw_trace_hook hooks[MW_TRACE_MAX_HOOKS];
	size_t nthreads; /* threads attached so far */
	struct mw_trace_site *sites;
	size_t nsites;
	uint64_t samples, sample_lost, unwind_failed;
	/* private */
	struct mw_perfev **ev; /* nhooks x nthreads */
	size_t nev;
	struct mw_perfev **sev; /* one sampling malloc probe per thread */
	size_t nsev;
	struct mw_unwinder *uw;
	uint64_t malloc_offset;
	uint32_t uprobe_type;
	pid_t *tids; /* threads attached, in the order of ev's slots */
	size_t ntids;
	uint64_t period, period_t0, period_count;
};

/*
 * Find what to attach (libc, symbols, tracepoints, threads) without
 * attaching. sample_every > 0 also samples about that many malloc calls
 * per second with a user-stack slice, unwound to heap allocation sites
 * (the exact malloc count shared out by samples).
 */
int mw_trace_plan(pid_t pid, uint64_t sample_every, struct mw_trace *t, char *why, size_t whylen);

/* Attach every planned hook on every thread. On failure nothing stays attached. */
int mw_trace_attach(struct mw_trace *t, char *why, size_t whylen);

/* Attach to threads born since the last scan. */
int mw_trace_rescan(struct mw_trace *t, char *why, size_t whylen);

/* Refresh hooks[].count and fold waiting malloc samples into sites (sorted by bytes). */
int mw_trace_read(struct mw_trace *t);

/* Detach everything (idempotent); sites stay until mw_trace_release. */
void mw_trace_detach(struct mw_trace *t);
void mw_trace_release(struct mw_trace *t);

/*
 * Where to put a uprobe on a function starting with code[0..len): the
 * offset of the first instruction the kernel emulates (push, jmp/jcc/call,
 * nop), stepping over a leading endbr64 and "test reg,reg" that it would
 * otherwise single-step. -1 when no such instruction is found early.
 */
int mw_uprobe_emulatable_offset(const uint8_t *code, size_t len);

#endif
