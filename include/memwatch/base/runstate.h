/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The running daemon's advertisement: a small key=value file in the
 * runtime directory ($MEMWATCH_RUNTIME_DIR, default /run/memwatch), written
 * atomically (rename) every tick and removed at a clean exit. It says which
 * database memwatchd records into, so the CLI finds a non-default one, and
 * carries the counters that must stay true while the database cannot be
 * written (a full disk): they are kept in memory and published here.
 */
#ifndef MEMWATCH_RUNSTATE_H
#define MEMWATCH_RUNSTATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define MW_RUNTIME_DIR  "/run/memwatch"
#define MW_RUNSTATE_ENV "MEMWATCH_RUNTIME_DIR"

struct mw_runstate {
	pid_t pid;
	char db[4096];
	int64_t started_ms, updated_ms, interval_ms;
	uint64_t ticks;           /* stored */
	uint64_t dropped_ticks;   /* collected but not stored (disk full, I/O errors) */
	uint64_t skipped_ticks;   /* never run: the previous tick overran the interval */
	uint64_t store_errors;    /* failed store operations, retention included */
	uint64_t cpu_us;          /* user+system CPU of every thread since start */
	uint64_t cpu_per_tick_us; /* cpu_us over the ticks attempted */
	int64_t rss_bytes;
	char last_error[256]; /* "" while recording */
};

/* The state file's path: $MEMWATCH_RUNTIME_DIR (or /run/memwatch) + "/memwatchd.state". */
int mw_runstate_path(char *buf, size_t cap);

/* Write atomically (a temporary file in the same directory, then rename), mode 0644. */
int mw_runstate_write(const char *file, const struct mw_runstate *s);

/* Parse; -ENOENT when absent, -EINVAL when it has no pid or db. */
int mw_runstate_read(const char *file, struct mw_runstate *s);

/* Is pid a live memwatchd (by /proc/PID/comm)? */
bool mw_runstate_pid_is_daemon(pid_t pid);

#endif
