/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * memwatchd internals. The daemon is a loop over "sources": the /proc
 * process and system collectors are built in; every other concern (eBPF,
 * regions, slab, IPC, the metrics listener) is one source in its own file,
 * listed once in sources.c. Each tick: every source collects (no database),
 * then one transaction holds the tick, the processes, and every source's
 * rows. A source that fails to open stays off and says why.
 */
#ifndef MEMWATCHD_DAEMON_H
#define MEMWATCHD_DAEMON_H

#include <stdbool.h>
#include <stdint.h>

#include "memwatch/proc.h"
#include "memwatch/store.h"
#include "memwatch/sysmem.h"

#define MW_DEFAULT_SLOW_INTERVAL_NS (60ull * 1000000000ull)

struct mw_daemon {
	/* configuration */
	const char *db_path;
	const char *root; /* "" for the live system */
	uint64_t interval_ns;
	uint64_t slow_interval_ns; /* slow tier (regions): 0 = MW_DEFAULT_SLOW_INTERVAL_NS */
	bool foreground;

	/* the current tick: filled by the built-in collectors before sources run */
	struct mw_store *store;
	struct mw_proc_collector *pc;
	struct mw_proc_set procs;
	struct mw_sys_sample sys;
	uint64_t t_ns;
	int64_t tick_id;
	uint64_t ticks; /* completed */

	int sigfd;
	int ready_fd; /* write end of the pipe a backgrounding parent waits on, or -1 */
	int last_err; /* so a failing tick is logged once, not every interval */
};

struct mw_source {
	const char *name;
	/* Once at start. Return -EOPNOTSUPP (or any error) to stay off; *why says why. */
	int (*open)(struct mw_daemon *d, void **state, char *why, size_t whylen);
	/* Each tick, before the transaction: gather data, touch no database. */
	int (*collect)(void *state, struct mw_daemon *d);
	/* Each tick, inside the transaction: write rows for d->tick_id. */
	int (*write)(void *state, struct mw_daemon *d);
	/* Optional: a descriptor to poll between ticks, and what to do when it is readable. */
	int (*fd)(void *state);
	void (*on_ready)(void *state, struct mw_daemon *d);
	void (*close)(void *state);
};

/* The sources, in the order they run (sources.c). */
extern const struct mw_source *const mw_sources[];
extern const size_t mw_nsources;

#endif
