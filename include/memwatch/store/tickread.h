/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Reading the store one tick at a time, as a process table does (memwatch
 * top): which tick to show, the processes alive at it with their values,
 * their values at an earlier tick (for rates), and the system sample.
 * Values come back as plain structs; MW_UNKNOWN where a column is NULL.
 *
 * Rows are written only on change, so a process's value at a tick is its
 * latest row at or before it.
 */
#ifndef MEMWATCH_STORE_TICKREAD_H
#define MEMWATCH_STORE_TICKREAD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "memwatch/collect/proc.h"
#include "memwatch/collect/sysmem.h"
#include "memwatch/store/store.h"

/* A recorded tick. */
struct mw_tick_ref {
	int64_t id;
	int64_t t_ms;
};

/* The latest tick at or before at_ms (the newest when at_ms is 0); -ENODATA when none. */
int mw_store_tick_at(struct mw_store *s, int64_t at_ms, struct mw_tick_ref *out);

/*
 * The latest tick at or before t_ms, else the first tick (a window
 * reaching back before the recording starts where the recording does);
 * -ENODATA when there are no ticks.
 */
int mw_store_tick_at_or_first(struct mw_store *s, int64_t t_ms, struct mw_tick_ref *out);

/*
 * The tick |delta| ticks after (delta > 0) or before (delta < 0) tick
 * from_id; -ENODATA when the recording ends first.
 */
int mw_store_tick_step(struct mw_store *s, int64_t from_id, int delta, struct mw_tick_ref *out);

/* The time of the earliest tick; -ENODATA when there are none. */
int mw_store_first_tick_ms(struct mw_store *s, int64_t *t_ms);

/* A process alive at a tick, with its values then. */
struct mw_tick_proc {
	int64_t proc_id; /* procs.id */
	pid_t pid, ppid;
	uint32_t uid;
	uint64_t start_ticks;
	char comm[MW_COMM_MAX];
	char *cmdline; /* owned; raw bytes from /proc: escape before display */
	char *cgroup;  /* owned */
	int64_t m[MW_PM_COUNT];
};

struct mw_tick_procs {
	size_t n;
	struct mw_tick_proc *v; /* by proc_id */
};

/*
 * The processes alive at tick_id. live: tick_id is the newest tick, so
 * "alive" is "not exited" (the exit_tick index, cheaper than the range
 * test a replayed tick needs).
 */
int mw_store_procs_at(struct mw_store *s, int64_t tick_id, bool live, struct mw_tick_procs *out);
void mw_tick_procs_release(struct mw_tick_procs *p);

/* One process's values at an earlier tick (or its first row, when it is younger). */
struct mw_proc_then {
	int64_t proc_id;
	int64_t t_ms; /* the tick the values are from */
	int64_t rss, minflt, majflt;
};

struct mw_procs_then {
	size_t n;
	struct mw_proc_then *v; /* by proc_id */
};

/*
 * For the processes alive at tick_id (live as above): their latest row
 * at or before then_tick, or their first row when they started after it.
 */
int mw_store_procs_then(struct mw_store *s, int64_t tick_id, bool live, int64_t then_tick,
                        struct mw_procs_then *out);
void mw_procs_then_release(struct mw_procs_then *p);

/* The system sample of tick_id, or the latest before it; -ENODATA when none. */
int mw_store_sys_at(struct mw_store *s, int64_t tick_id, struct mw_sys_sample *out);

/*
 * When the vmstat oom_kill counter reached its value at tick_id, if it
 * rose after since_ms (compared with the last sample at or before
 * since_ms, else the smallest recorded): the moment the kernel counted
 * the latest kill, even when no process table row names the victim.
 * *t_ms is 0 when it did not rise or is not recorded.
 */
int mw_store_oom_counter_rise(struct mw_store *s, int64_t tick_id, int64_t since_ms, int64_t *t_ms);

#endif
