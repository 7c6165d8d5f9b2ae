/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The SQLite store: one file, WAL, one transaction per tick, add-only
 * migrations keyed by PRAGMA user_version. docs/schema.md documents the
 * tables; they are a public interface.
 *
 * One writer (memwatchd, holding an flock on the file for its lifetime)
 * and any number of read-only readers that never block it.
 */
#ifndef MEMWATCH_STORE_H
#define MEMWATCH_STORE_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "memwatch/collect/cgroup.h"
#include "memwatch/collect/proc.h"
#include "memwatch/collect/sysmem.h"

/* 'MWAT': tells our files from other SQLite databases. */
#define MW_STORE_APPLICATION_ID 0x4d574154
/* The last step of the migrations table in lib/store.c. */
#define MW_STORE_SCHEMA_VERSION 9

struct mw_store;

struct mw_store_options {
	/* Write a full per-process row at least this often, so a gap is never ambiguous. */
	uint64_t full_row_every_ns;
	/* Root of /proc, for the boot id (tests point it elsewhere). */
	const char *root;
};

#define MW_STORE_FULL_ROW_EVERY_NS (600ull * 1000000000ull)

/*
 * Open for writing: creates the file (and its directory) when missing,
 * takes the single-writer lock, migrates. Errors:
 *   -EBUSY          another writer holds the lock (its pid in *holder_pid when known)
 *   -EPROTONOSUPPORT the file has a newer schema than this build knows
 *   -ENOTRECOVERABLE the file is not a memwatch database (foreign or corrupt)
 */
int mw_store_open_writer(const char *path, const struct mw_store_options *opt,
                         struct mw_store **out, pid_t *holder_pid);

/* Open read-only. -ENOENT when the file does not exist. */
int mw_store_open_reader(const char *path, struct mw_store **out);

void mw_store_close(struct mw_store *s);

/* A human message for the last SQLite error on this store. */
const char *mw_store_errmsg(struct mw_store *s);

struct mw_tick {
	uint64_t t_ns;
	uint64_t duration_ns; /* time spent collecting */
	const struct mw_proc_set *procs;
	const struct mw_sys_sample *sys;
};

/*
 * Write one tick in one transaction: the tick, the system sample, process
 * starts/exits/execs as events, and a per-process row for every process
 * whose values changed (or whose last full row is too old). On failure
 * nothing of the tick is kept and the in-memory state is left as before.
 * Equivalent to begin + procs + commit (rollback on error).
 */
int mw_store_write_tick(struct mw_store *s, const struct mw_tick *t);

/*
 * The same in steps, so other modules (eBPF drains, slab, regions) add
 * their rows to the tick's transaction: begin, write_procs, then the store
 * writers with the tick id, then commit, or rollback on any
 * error (which also undoes the in-memory process state).
 */
int mw_store_tick_begin(struct mw_store *s, const struct mw_tick *t, int64_t *tick_id);
int mw_store_tick_write_procs(struct mw_store *s, int64_t tick_id, const struct mw_tick *t);
int mw_store_tick_commit(struct mw_store *s);
void mw_store_tick_rollback(struct mw_store *s);

/* The process id (procs.id) the writer assigned to a live (pid, start); 0 when unknown or
 * not recorded yet (seen in one tick only: see docs/schema.md). */
int64_t mw_store_live_proc_id(struct mw_store *s, pid_t pid, uint64_t start_ticks);

/* Append an event (kind: "daemon-start", "oom-kill", ...); proc_id 0 when none. */
/*
 * Inside the tick transaction: the memory-cgroup limit binding processes
 * whose /proc/PID/cgroup text is cgroup_text (cl->limit known).
 */
int mw_store_write_memcg(struct mw_store *s, int64_t tick_id, const char *cgroup_text,
                         const struct mw_cgroup_limit *cl);

int mw_store_add_event(struct mw_store *s, uint64_t t_ns, const char *kind, int64_t proc_id,
                       pid_t pid, const char *detail_json);

/* meta key/value (writer only for set). */
int mw_store_meta_set(struct mw_store *s, const char *key, const char *value);
int mw_store_meta_get(struct mw_store *s, const char *key, char *buf, size_t cap);

/* ---- reading ---- */

struct mw_proc_info {
	int64_t id;
	pid_t pid;
	pid_t ppid;
	uint32_t uid;
	uint64_t start_ticks;
	int64_t start_ms;
	int64_t first_ms; /* first tick it was seen */
	int64_t last_ms;  /* last tick it was seen alive */
	bool exited;
	char comm[MW_COMM_MAX];
	char *cmdline;
	char *cgroup;
};

void mw_proc_info_release(struct mw_proc_info *p);

/* The process (pid, start_ticks) of the current boot; -ENOENT when not recorded. */
int mw_store_find_proc(struct mw_store *s, const char *boot_id, pid_t pid, uint64_t start_ticks,
                       struct mw_proc_info *out);

/* The most recently recorded process with this pid in this boot (alive or exited). */
int mw_store_find_latest_proc(struct mw_store *s, const char *boot_id, pid_t pid,
                              struct mw_proc_info *out);

/*
 * A process's samples as a step series: one point per stored row, plus a
 * final point at the last tick it was seen alive. Values carry forward.
 */
struct mw_series {
	size_t n;
	int64_t *t_ms;
	int64_t (*m)[MW_PM_COUNT];
};

int mw_store_proc_series(struct mw_store *s, int64_t proc_id, int64_t since_ms, int64_t until_ms,
                         struct mw_series *out);
void mw_series_release(struct mw_series *sr);

struct mw_store_stats {
	int64_t ticks;
	int64_t first_tick_ms, last_tick_ms;
	int64_t procs, live_procs;
	int64_t proc_rows, sys_rows, events;
	int64_t file_bytes; /* main file + WAL */
	int schema_version;
};

int mw_store_stats(struct mw_store *s, struct mw_store_stats *st);

/*
 * Is a writer holding the lock on path right now? 1 yes, 0 no, -errno.
 * Must be called before opening a reader on the same file in this process
 * (closing the probe fd would drop SQLite's POSIX locks otherwise).
 */
int mw_store_writer_active(const char *path);

#endif
